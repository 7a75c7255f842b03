"""Where independent jobs run: here, one after another, or as tasks on Ray.

    >>> outcomes = run_all(train_one, jobs, names=[j.name for j in jobs], executor="ray")
    >>> [(o.name, o.error) for o in outcomes if not o.ok]   # the jobs that raised, or whose
    ...                                                      # worker died, by name

Every job runs to its end whatever the others do: one that raises (or, on Ray, whose worker
process dies) comes back as an `Outcome` with `error` set; the outcomes are in job order.
`executor="ray"` connects to `address` (default: the RAY_ADDRESS environment variable), else
starts a local Ray with this machine's cores for the call and stops it after. A task takes one
CPU of Ray's but runs torch with the driver's thread count, so it computes the very floats the
local executor would (torch's CPU kernels can round differently at another thread count).
Ray is an optional extra (`pip install 'gameon_nb[ray]'`), imported only here and by the
collectors, and only when asked for.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Generic, Literal, TypeVar, get_args

from gameon_nb.progress import progress_bar

__all__ = [
    "EXECUTORS", "Executor", "ExecutorError", "Outcome", "RayMissingError", "ray_session",
    "run_all",
]  # fmt: skip

J = TypeVar("J")
T = TypeVar("T")
Executor = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = get_args(Executor)

LOCAL_OBJECT_STORE = 512 * 2**20
"""Bytes of shared memory a local Ray gets for its object store: weights and episodes are small."""


class ExecutorError(RuntimeError):
    """The executor asked for cannot run jobs: Ray missing, or its cluster out of reach."""


class RayMissingError(ExecutorError):
    """Ray was asked for but is not installed."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What became of one job: its value, or the error that ended it (one line, and the trace)."""

    name: str
    value: T | None = None
    error: str | None = None
    trace: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def import_ray() -> ModuleType:
    """The `ray` module, or a RayMissingError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise RayMissingError(
            "the ray executor needs Ray: pip install 'gameon_nb[ray]' (or --executor local)"
        ) from error
    return ray


@contextmanager
def ray_session(address: str | None = None) -> Iterator[ModuleType]:
    """Ray connected for the block: to `address`, else RAY_ADDRESS, else a local Ray of this
    machine's cores that is stopped after. A session already open is used as it is."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        try:
            _reachable(address)
            ray.init(address=address, log_to_driver=False)
        except OSError as error:  # refused, timed out, unknown host; Ray's ConnectionError too
            raise ExecutorError(
                f"no Ray cluster answers at {address} ({error}); start one (`ray start --head`), "
                "fix --ray-address or RAY_ADDRESS, or leave both unset for a local Ray"
            ) from error
    else:
        ray.init(
            num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE,
            include_dashboard=False, log_to_driver=False, configure_logging=False,
        )  # fmt: skip
    try:
        yield ray
    finally:
        ray.shutdown()


def _reachable(address: str, seconds: float = 5.0) -> None:
    """A ConnectionError at once if `host:port` takes no TCP connection (Ray itself would retry
    for minutes); other forms ('auto', 'ray://...') are left to Ray."""
    host, sep, port = address.rpartition(":")
    if not sep or "/" in address or not port.isdigit():
        return
    with socket.create_connection((host, int(port)), timeout=seconds):
        pass


def _one_line(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(error)).strip().splitlines()[-1]


def _call(fn: Callable[[J], T], job: J, threads: int) -> tuple[T, float]:
    """`fn(job)` on a Ray worker, with the driver's torch thread count; its value and seconds."""
    import torch

    torch.set_num_threads(threads)
    started = time.perf_counter()
    return fn(job), time.perf_counter() - started


def run_all(
    fn: Callable[[J], T],
    jobs: Sequence[J],
    names: Sequence[str],
    executor: Executor = "local",
    address: str | None = None,
    progress: bool = False,
    desc: str = "runs",
) -> list[Outcome[T]]:
    """`fn` applied to every job (see the module docstring); `fn` must be importable by name for
    Ray (a module-level function), and `jobs` and values picklable."""
    if len(names) != len(jobs):
        raise ValueError(f"{len(jobs)} jobs but {len(names)} names")
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; known: {', '.join(EXECUTORS)}")
    bar = progress_bar(total=len(jobs), desc=desc, unit="run", disable=not progress)
    failed = 0

    def report(outcome: Outcome[T], running: int) -> None:
        nonlocal failed
        failed += not outcome.ok
        bar.set_postfix_str(f"running {running}, failed {failed}", refresh=False)
        bar.update()

    try:
        if executor == "local":
            return _run_here(fn, jobs, names, report)
        return _run_on_ray(fn, jobs, names, address, report)
    finally:
        bar.close()


def _run_here(
    fn: Callable[[J], T],
    jobs: Sequence[J],
    names: Sequence[str],
    report: Callable[[Outcome[T], int], None],
) -> list[Outcome[T]]:
    out: list[Outcome[T]] = []
    for i, (job, name) in enumerate(zip(jobs, names, strict=True)):
        started = time.perf_counter()
        try:
            outcome = Outcome(name, fn(job), seconds=time.perf_counter() - started)
        except Exception as error:  # the job's failure is its outcome; the others still run
            outcome = Outcome(
                name, error=_one_line(error), trace=traceback.format_exc(),
                seconds=time.perf_counter() - started,
            )  # fmt: skip
        out.append(outcome)
        report(outcome, min(1, len(jobs) - i - 1))
    return out


def _run_on_ray(
    fn: Callable[[J], T],
    jobs: Sequence[J],
    names: Sequence[str],
    address: str | None,
    report: Callable[[Outcome[T], int], None],
) -> list[Outcome[T]]:
    import torch

    threads = torch.get_num_threads()
    with ray_session(address) as ray:
        remote = ray.remote(num_cpus=1, max_retries=0)(_call)
        pending: dict[Any, int] = {remote.remote(fn, job, threads): i for i, job in enumerate(jobs)}
        found: dict[int, Outcome[T]] = {}
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(ref)
            try:
                value, seconds = ray.get(ref)
                found[i] = Outcome(names[i], value, seconds=seconds)
            except ray.exceptions.RayTaskError as error:  # the job raised: its own error
                cause = error.cause if isinstance(error.cause, BaseException) else error
                found[i] = Outcome(names[i], error=_one_line(cause), trace=str(error))
            except ray.exceptions.RayError as error:  # its worker or node died under it
                line = f"its Ray worker died ({type(error).__name__}): {_one_line(error)}"
                found[i] = Outcome(names[i], error=line, trace=str(error))
            report(found[i], len(pending))
        return [found[i] for i in range(len(jobs))]
