"""`RunDir`: where one run keeps everything, and the one owner of its config and state files.

    >>> run = RunDir("runs/a")
    >>> run.config_path, run.library_path, run.episodes, run.checkpoint("latest")
    >>> run.save_config(config); run.load_config()
    >>> run.save_state({"round": 2, "next_stage": "collect"}); run.load_state()

Layout: config.json (resolved), state.json (stage reached), events.jsonl, calls.jsonl (the
experimenter's call log), library.json, episodes/, checkpoints/, evaluations/, images/, report/,
tb/ (TensorBoard).
Every file is written atomically, so a killed process leaves either the old or the new version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gameon_nb.atomic import atomic_write_text
from gameon_nb.config import ConfigError, RunConfig, from_dict, override, to_dict
from gameon_nb.data.store import EpisodeStore
from gameon_nb.skills.library import SkillLibrary

__all__ = ["RunDir", "RunStateError"]


class RunStateError(RuntimeError):
    """A run directory whose config or state cannot be read back."""


class RunDir:
    """Paths and the config/state files of one run directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    @property
    def events_path(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def library_path(self) -> Path:
        return self.root / "library.json"

    @property
    def episodes(self) -> Path:
        return self.root / "episodes"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def tb_dir(self) -> Path:
        """TensorBoard event files, rewritten from events.jsonl (see `loop.tensorboard`)."""
        return self.root / "tb"

    def checkpoint(self, name: str) -> Path:
        """checkpoints/<name>.pt, e.g. 'latest', 'round-003', 'train-003'."""
        return self.root / "checkpoints" / f"{name}.pt"

    def evaluation(self, round: int) -> Path:
        return self.root / "evaluations" / f"round-{round:03d}.json"

    def image(self, name: str) -> Path:
        return self.root / "images" / name

    # -- owned files ---------------------------------------------------------------------------

    def store(self) -> EpisodeStore:
        return EpisodeStore(self.episodes)

    def library(self) -> SkillLibrary:
        """The run's library, or the initial one before the first save."""
        path = self.library_path
        return SkillLibrary.load(path) if path.exists() else SkillLibrary.initial()

    def load_config(self, assignments: list[str] | None = None) -> RunConfig:
        """The saved config (defaults if none yet) with `section.field=value` overrides applied."""
        config = RunConfig()
        if self.config_path.exists():
            try:
                config = from_dict(RunConfig, json.loads(self.config_path.read_text()))
            except (json.JSONDecodeError, ConfigError) as error:
                raise RunStateError(
                    f"{self.config_path} is not a valid run config ({error}); fix or delete it"
                ) from error
        return override(config, list(assignments or []))

    def save_config(self, config: RunConfig) -> None:
        atomic_write_text(self.config_path, json.dumps(to_dict(config), indent=2))

    def load_state(self) -> dict[str, Any]:
        """The stage reached ({} for a run not started)."""
        if not self.state_path.exists():
            return {}
        try:
            state = json.loads(self.state_path.read_text())
        except json.JSONDecodeError as error:
            raise RunStateError(f"{self.state_path} is damaged ({error})") from error
        if not isinstance(state, dict):
            raise RunStateError(f"{self.state_path} does not hold a mapping")
        return state

    def save_state(self, state: dict[str, Any]) -> None:
        atomic_write_text(self.state_path, json.dumps(state, indent=1))

    def write_json(self, path: Path, data: Any) -> None:
        atomic_write_text(path, json.dumps(data, indent=1))
