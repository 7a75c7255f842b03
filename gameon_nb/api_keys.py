"""API keys: they live in the environment, choose the experimenter backend, and are never
parameters.

    >>> choose_backend("auto")                       # 'gemini' when a key is set, else 'scripted'
    >>> refuse_secrets("api_token", "abc")           # ParameterError: refused: ... a secret
    >>> refuse_secrets("preset", "AIza...")          # ParameterError: ... looks like an API key

A parameter whose name or value looks like a secret (or holds the value of one of
`KEY_VARIABLES`) is refused before anything runs, so a key never reaches a notebook, a log or a
run directory; the backends read it from the environment themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from gameon_nb.notebook_errors import ParameterError

__all__ = ["KEY_VARIABLES", "choose_backend", "has_api_key", "refuse_secrets"]

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY")
"""Where API keys live: the environment, read by the backends themselves."""

GEMINI_KEYS = KEY_VARIABLES[:2]
"""The variables the gemini backend reads; `auto` means gemini when one is set."""

SECRET_NAME = re.compile(r"key|token|secret|passw|credential", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"AIza[0-9A-Za-z_\-]{30,}|sk-[0-9A-Za-z_\-]{20,}|gh[pousr]_[0-9A-Za-z]{30,}|ya29\.[0-9A-Za-z_\-]{20,}"
)


def has_api_key(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a gemini key is set in `environ` (the process environment by default)."""
    env = os.environ if environ is None else environ
    return any(env.get(v) for v in GEMINI_KEYS)


def refuse_secrets(name: str, text: str) -> None:
    """A ParameterError when `name` or its value `text` looks like a secret; see above."""
    if SECRET_NAME.search(name):
        raise ParameterError(
            f"refused: {name!r} looks like a secret; keys are never parameters. Set "
            f"{' or '.join(GEMINI_KEYS)} in the environment instead (the gemini backend "
            "reads it there, and it never reaches the notebook, the log or the run directory)"
        )
    from_env = [v for v in KEY_VARIABLES if os.environ.get(v) and os.environ[v] in text]
    if from_env or SECRET_VALUE.search(text):
        where = f" (it holds ${from_env[0]})" if from_env else ""
        raise ParameterError(
            f"refused: the value of {name!r} looks like an API key{where}; keys are never "
            "parameters, they are read from the environment"
        )


def choose_backend(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The experimenter backend for `name`: 'auto' is gemini when a key is set, else scripted;
    'gemini' without a key is an error that says where the key goes.

    >>> choose_backend("scripted"), choose_backend("auto", {})
    ('scripted', 'scripted')
    """
    from gameon_nb.experimenter.backends import BACKENDS

    has_key = has_api_key(environ)
    if name == "auto":
        return "gemini" if has_key else "scripted"
    if name not in BACKENDS:
        raise ParameterError(
            f"unknown experimenter backend {name!r}; known: auto, {', '.join(BACKENDS)}"
        )
    if name == "gemini" and not has_key:
        raise ParameterError(
            "the gemini experimenter needs an API key in the environment: export GEMINI_API_KEY "
            "(or GOOGLE_API_KEY) before starting Jupyter or `gameon batch`; it is never a "
            "parameter. Use experimenter='auto' to fall back to the scripted experimenter"
        )
    return name
