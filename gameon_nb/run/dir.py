"""`RunDir`: where one run keeps everything, and the one owner of its config and state files.

    >>> run = RunDir("runs/a")
    >>> run.config_path, run.library_path, run.episodes, run.checkpoint("latest")
    >>> run.save_config(config); run.load_config()
    >>> run.load_state().this_round.plan; run.save_state(state)       # a typed RunState
    >>> with run.lock():              # this process is the run's one writer until the block ends
    ...     ...                       # a second writer: RunLockedError naming this pid and command

A run directory has one writing process at a time: every writer (the CLI, `Experiment`, the
stepper, `compare`, `batch`) takes `RunLock`, an advisory OS lock (`fcntl.flock`) on `.lock`,
which the OS releases when the holder exits or is killed; `.lock` names the holder. Readers
(`gameon status`, the static widgets, reports) never need it. Within one process the lock is
re-entrant: a notebook may open the run twice.

Layout: config.json (resolved), state.json (stage reached), events.jsonl, calls.jsonl and
vlm_cache/ (the experimenter's ledger: call log and answer cache), library.json, episodes/,
checkpoints/, evaluations/, images/, report/, tb/ (TensorBoard), .lock; and where other tools
put them, batch.json with <notebook>.ipynb and .html (`gameon batch`), judge_eval/<backend>/
(`gameon judge-eval`), compare-final.json and compare-row.json (`gameon compare`). Only this
module joins these names to a run directory (a test walks the source to keep it so).
Every file is written atomically, so a killed process leaves either the old or the new version.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypedDict

from gameon_nb.atomic import atomic_write_text
from gameon_nb.config import ConfigError, RunConfig, from_dict, override, to_dict
from gameon_nb.run.state import RunState, RunStateError

if TYPE_CHECKING:  # imported where used: data/ and skills/ sit on this layer, not below it
    from gameon_nb.data.store import EpisodeStore
    from gameon_nb.skills.library import SkillLibrary
    from gameon_nb.skills.results import SkillResult

__all__ = ["CompareDir", "RunDir", "RunLock", "RunLockedError", "RunStateError"]


class RunLockedError(RunStateError):
    """Another process writes this run directory; the message names it."""


_HELD: dict[Path, tuple[IO[str], int]] = {}
"""Run directories this process holds the lock of: the open lock file and how many holds."""


def _command_line(limit: int = 160) -> str:
    """This process's command line as `ps` shows it, shortened to `limit` characters."""
    try:
        words = Path("/proc/self/cmdline").read_bytes().decode(errors="replace").split("\0")
        words = [Path(words[0]).name, *words[1:]]
    except OSError:
        words = [Path(sys.executable).name, *sys.argv]
    line = " ".join(" ".join(words).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class LockHolder(TypedDict, total=False):
    """What `.lock` says of its holder (as written; a damaged file may lack a key)."""

    pid: int
    command: str
    since: str
    """When it took the lock, ISO 8601 with the zone."""


class RunLock:
    """The advisory lock that makes one process the writer of a run directory (see above).

    >>> lock = RunLock("runs/a").acquire()     # RunLockedError if another process holds it
    >>> lock.release()                         # or the process ends, however it ends
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.path = self.root / ".lock"
        self._held = False

    def holder(self) -> LockHolder | None:
        """{"pid", "command", "since"} of the process named in `.lock` (None: none written)."""
        try:
            data: LockHolder = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def acquire(self) -> RunLock:
        """Hold the lock (again, if this process holds it already); fail at once if another
        process does, changing no file of the run."""
        if self._held:
            return self
        key = self.root.resolve()
        if key in _HELD:
            handle, holds = _HELD[key]
            _HELD[key] = (handle, holds + 1)
            self._held = True
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            who = self.holder() or {}
            raise RunLockedError(
                f"{self.root} is in use by process {who.get('pid', '?')} "
                f"({who.get('command', 'unknown command')}, since {who.get('since', '?')}): "
                "wait for it to finish or stop it; reading the run (gameon status, reports, "
                "the static widgets) works meanwhile"
            ) from None
        handle.truncate(0)
        command = _command_line()
        since = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        handle.write(json.dumps(LockHolder(pid=os.getpid(), command=command, since=since)))
        handle.flush()
        _HELD[key] = (handle, 1)
        self._held = True
        return self

    def release(self) -> None:
        """Give up this hold; the lock is free once every hold of this process is given up."""
        if not self._held:
            return
        self._held = False
        key = self.root.resolve()
        handle, holds = _HELD[key]
        if holds > 1:
            _HELD[key] = (handle, holds - 1)
            return
        del _HELD[key]
        handle.truncate(0)
        handle.close()  # closing the file releases the flock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class CompareDir:
    """A comparison's directory: one run directory per arm and seed, and the table's files.

    >>> cmp = CompareDir("runs/cmp"); cmp.run("target-seed0"); cmp.table("md")
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def run(self, name: str) -> RunDir:
        return RunDir(self.root / name)

    def table(self, kind: str) -> Path:
        """compare.<kind>: the table as 'json', 'csv', 'md' or 'html'."""
        return self.root / f"compare.{kind}"


class SweepDir:
    """A notebook sweep's directory (`gameon batch --grid`): one run directory per point,
    sweep.json and index.html.

    >>> sweep = SweepDir("runs/nb"); sweep.point("rounds=4"); sweep.index; sweep.record
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def point(self, name: str) -> RunDir:
        return RunDir(self.root / name)

    @property
    def index(self) -> Path:
        """index.html: every point's parameters, status and headline, linked to its notebook."""
        return self.root / "index.html"

    @property
    def record(self) -> Path:
        """sweep.json: what `run_batch_sweep` returns."""
        return self.root / "sweep.json"


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

    @property
    def batch_record(self) -> Path:
        """batch.json: what `gameon batch` ran here (parameters, versions, status)."""
        return self.root / "batch.json"

    def executed_notebook(self, stem: str) -> Path:
        """<stem>.ipynb: a notebook as `gameon batch` executed it here."""
        return self.root / f"{stem}.ipynb"

    def notebook_report(self, stem: str) -> Path:
        """<stem>.html: the static HTML of an executed notebook."""
        return self.root / f"{stem}.html"

    def judge_eval_dir(self, backend: str) -> Path:
        """judge_eval/<backend>/: the call log and cache of `gameon judge-eval`."""
        return self.root / "judge_eval" / backend

    @property
    def compare_final(self) -> Path:
        """compare-final.json: a comparison's final evaluation of this run."""
        return self.root / "compare-final.json"

    @property
    def compare_row(self) -> Path:
        """compare-row.json: this run's row of a comparison, for the state it was computed at."""
        return self.root / "compare-row.json"

    def file(self, relative: str) -> Path:
        """A file the run's records name relative to its root (an event's image)."""
        return self.root / relative

    def checkpoint(self, name: str) -> Path:
        """checkpoints/<name>.pt, e.g. 'latest', 'round-003', 'train-003'."""
        return self.root / "checkpoints" / f"{name}.pt"

    def evaluation(self, round: int) -> Path:
        return self.root / "evaluations" / f"round-{round:03d}.json"

    def image(self, name: str) -> Path:
        return self.root / "images" / name

    def lock(self) -> RunLock:
        """This run's `RunLock`, acquired: the caller is its writer until `release()`."""
        return RunLock(self.root).acquire()

    # -- owned files ---------------------------------------------------------------------------

    def store(self) -> EpisodeStore:
        from gameon_nb.data.store import EpisodeStore

        return EpisodeStore(self.episodes)

    def library(self) -> SkillLibrary:
        """The run's library, or the initial one before the first save."""
        from gameon_nb.skills.library import SkillLibrary

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

    def load_state(self) -> RunState:
        """The stage reached (a fresh RunState for a run not started)."""
        return RunState.load(self.state_path)

    def save_state(self, state: RunState) -> None:
        state.save(self.state_path)

    def latest_evaluation(self) -> dict[str, SkillResult] | None:
        """The newest evaluations/round-NNN.json (None before the first evaluation)."""
        found = sorted(self.evaluation(0).parent.glob("round-*.json"))
        if not found:
            return None
        results: dict[str, SkillResult] = json.loads(found[-1].read_text())
        return results

    def write_json(self, path: Path, data: Any) -> None:
        atomic_write_text(path, json.dumps(data, indent=1))
