"""The backend registry: a name to a factory of `VLM`s; the SDKs load only when one is built.

>>> vlm = make_backend("scripted", BackendSpec(config, model="", seed=0))
>>> make_backend("claude", spec)     # UnknownBackendError: ... known: gemini, openai, ...
>>> sorted(BACKENDS)
['gemini', 'openai', 'replay', 'scripted']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gameon_nb.config import ExperimenterConfig
from gameon_nb.experimenter.errors import BackendConfigError, UnknownBackendError
from gameon_nb.experimenter.protocol import VLM
from gameon_nb.skills.retrieval import Embedder

__all__ = ["BACKENDS", "BackendSpec", "default_model", "make_backend"]


@dataclass(frozen=True)
class BackendSpec:
    """What a factory may use to build a backend."""

    config: ExperimenterConfig
    model: str = ""
    """Model id; empty: the backend's default from `config`."""
    seed: int = 0
    embedder: Embedder | None = field(default=None, compare=False)
    """Sentence embedder of the scripted backend's skill retrieval (None: MiniLM)."""


def _gemini(spec: BackendSpec) -> VLM:
    from gameon_nb.experimenter.backends.gemini import GeminiVLM

    return GeminiVLM(spec.config, spec.model or spec.config.gemini_model)


def _openai(spec: BackendSpec) -> VLM:
    from gameon_nb.experimenter.backends.openai_compatible import OpenAIVLM

    return OpenAIVLM(spec.config, spec.model or spec.config.openai_model)


def _scripted(spec: BackendSpec) -> VLM:
    from gameon_nb.experimenter.backends.scripted import ScriptedExperimenter, ScriptedVLM

    rules = ScriptedExperimenter(spec.seed, spec.embedder, spec.config.scripted_judge_error)
    return ScriptedVLM(rules)


def _replay(spec: BackendSpec) -> VLM:
    from gameon_nb.experimenter.backends.replay import ReplayVLM

    cfg = spec.config
    if not cfg.replay_log:
        raise BackendConfigError(
            "the replay backend answers from a recorded call log: set experimenter.replay_log "
            "to a calls.jsonl"
        )
    fallback = make_backend(cfg.replay_fallback, spec) if cfg.replay_fallback else None
    return ReplayVLM(Path(cfg.replay_log), fallback)


BACKENDS: dict[str, Callable[[BackendSpec], VLM]] = {
    "gemini": _gemini,
    "openai": _openai,
    "scripted": _scripted,
    "replay": _replay,
}


def make_backend(name: str, spec: BackendSpec) -> VLM:
    """Build the backend `name`; an unknown name lists the known ones."""
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise UnknownBackendError(
            f"unknown experimenter backend {name!r}; known: {', '.join(sorted(BACKENDS))}"
        ) from None
    return factory(spec)


def default_model(name: str, config: ExperimenterConfig) -> str:
    """The model a role of backend `name` uses when it names none."""
    return {"gemini": config.gemini_model, "openai": config.openai_model}.get(name, name)
