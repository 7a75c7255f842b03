"""Jobs run here or as Ray tasks: every job runs to its end, failures come back by name, in job
order; a Ray task computes with the driver's torch thread count. Grids of settings."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameon_nb.executors import ExecutorError, Outcome, ray_session, run_all
from gameon_nb.grid import GridError, label, parse_grid, points


def square_or_fail(n: int) -> int:
    if n == 2:
        raise ValueError(f"job {n} refuses")
    return n * n


def die_on_three(n: int) -> int:
    if n == 3:
        os._exit(1)  # the worker process dies under the task
    return n


def torch_threads(_: int) -> int:
    import torch

    return torch.get_num_threads()


def check(outcomes: list[Outcome[int]]) -> None:
    assert [o.name for o in outcomes] == ["a", "b", "c", "d"]
    assert [o.value for o in outcomes] == [0, 1, None, 9]
    assert [o.ok for o in outcomes] == [True, True, False, True]
    assert outcomes[2].error == "ValueError: job 2 refuses"
    assert "square_or_fail" in (outcomes[2].trace or "")


def test_a_job_that_raises_is_reported_by_name_and_the_others_finish() -> None:
    check(run_all(square_or_fail, [0, 1, 2, 3], ["a", "b", "c", "d"]))


def test_names_must_match_the_jobs_and_the_executor_be_known() -> None:
    with pytest.raises(ValueError, match="2 jobs but 1 names"):
        run_all(square_or_fail, [0, 1], ["a"])
    with pytest.raises(ValueError, match="known: local, ray"):
        run_all(square_or_fail, [0], ["a"], executor="dask")  # type: ignore[arg-type]


def test_a_cluster_out_of_reach_is_an_error_at_once() -> None:
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized(), "runs before the module's local Ray (which it would use)"
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    answers = f"no Ray cluster answers at 127.0.0.1:{port}"
    with pytest.raises(ExecutorError, match=answers), ray_session(f"127.0.0.1:{port}"):
        pass
    assert time.perf_counter() - started < 10


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    here = {"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}}  # workers import this module
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 * 2**20, runtime_env=here)
    yield
    ray.shutdown()


def test_ray_reports_the_same_outcomes(local_ray: None) -> None:
    check(run_all(square_or_fail, [0, 1, 2, 3], ["a", "b", "c", "d"], executor="ray"))


def test_a_dead_worker_is_reported_by_name(local_ray: None) -> None:
    outcomes = run_all(die_on_three, [1, 3, 5], ["one", "three", "five"], executor="ray")
    assert [(o.name, o.value) for o in outcomes] == [("one", 1), ("three", None), ("five", 5)]
    assert "its Ray worker died" in (outcomes[1].error or "")


def test_a_ray_task_computes_with_the_drivers_thread_count(local_ray: None) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert run_all(torch_threads, [0], ["t"], executor="ray")[0].value == 2
    finally:
        torch.set_num_threads(before)


def test_a_grid_crosses_its_values_in_order_and_names_each_point() -> None:
    grid = parse_grid(["learner.bc_weight=0.2, 0.5", "seed=0,1"])
    assert grid == {"learner.bc_weight": ["0.2", "0.5"], "seed": ["0", "1"]}
    assert [label(p) for p in points(grid)] == [
        "bc_weight=0.2-seed=0", "bc_weight=0.2-seed=1", "bc_weight=0.5-seed=0",
        "bc_weight=0.5-seed=1",
    ]  # fmt: skip
    assert label({"sim.image_size": "[64, 64]"}) == "image_size=_64,_64_"
    for bad in ["seed", "seed=", "=1,2"]:
        with pytest.raises(GridError, match="name=v1,v2"):
            parse_grid([bad])
    with pytest.raises(GridError, match="given twice"):
        parse_grid(["seed=0", "seed=1"])
