"""The run-state layer: a run directory's paths and files, its lock, and the typed state of a run.

    >>> from gameon_nb.run import RunDir, RunState
    >>> run = RunDir("runs/a"); run.load_state().this_round.plan
    >>> with run.lock(): ...                 # this process is the run's one writer

It sits below the loop: `data/`, `widgets/`, the report and the CLI use it for every path under
a run directory, and nothing else joins such paths by hand.
"""

from gameon_nb.run.dir import RunDir, RunLock, RunLockedError
from gameon_nb.run.state import (
    Decomposed,
    HistoryRecord,
    LibraryEntry,
    RoundRecord,
    RoundRow,
    RunState,
    RunStateError,
    RunStatus,
)

__all__ = [
    "Decomposed",
    "HistoryRecord",
    "LibraryEntry",
    "RoundRecord",
    "RoundRow",
    "RunDir",
    "RunLock",
    "RunLockedError",
    "RunState",
    "RunStateError",
    "RunStatus",
]
