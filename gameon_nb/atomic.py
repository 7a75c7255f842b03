"""Crash-safe file writes: a temporary file beside the target, flushed, fsynced, then renamed.

    >>> atomic_write_bytes(run.library_path, data)          # run = RunDir("runs/a")
    >>> atomic_write_text(run.state_path, json.dumps(state))

A process killed mid-write leaves the old file (or none) and, at worst, a `.tmp-*` file that
readers ignore and `remove_stale_temporaries` cleans up; never a half-written target. The file
gets the permissions an ordinary `open` would give it (0666 less the umask), not the owner-only
0600 of a temporary file, so a run directory can be shared.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "TMP_PREFIX",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_with",
    "remove_stale_temporaries",
]

TMP_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[IO[bytes]]:
    """Open a temporary binary file that replaces `path` only if the block completes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def _umask() -> int:
    """This process's umask: from /proc on Linux, else by setting it and setting it back."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_write(path) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode())


def atomic_write_with(path: Path, writer: Callable[[IO[bytes]], None]) -> None:
    """Let `writer` fill a temporary file that then replaces `path` atomically."""
    with atomic_write(path) as handle:
        writer(handle)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete temporaries left by killed writers in `directory`; return what was removed."""
    stale = sorted(Path(directory).glob(f"{TMP_PREFIX}*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
