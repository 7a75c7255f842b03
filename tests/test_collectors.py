"""Collection on Ray actors (`loop.collectors`) stores what the in-process path stores, bit for bit,
even when an actor is killed mid-round; `loop.collectors=0` never imports Ray."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gameon_nb.config import RunConfig, override
from gameon_nb.learner.trainer import Learner
from gameon_nb.loop import TINY, Experiment
from gameon_nb.loop.collect import CollectJob, collect
from gameon_nb.loop.collectors import CollectorError, CollectorPool
from gameon_nb.skills.skill import Skill

ray = pytest.importorskip("ray")

# one round, collected in 4 waves of 2 envs: enough waves for an actor to die with some unfinished
SETS = [*TINY, "loop.rounds=1", "loop.episodes_per_task=8"]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=512 * 2**20)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def set_up(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory through setup and round 1's retrieve: collection is next."""
    root = tmp_path_factory.mktemp("set_up")
    exp = Experiment(root, override(RunConfig(), SETS))
    while exp.next_stage != "collect":
        exp.step()
    exp.close()
    return root


def collected(
    set_up: Path, root: Path, sets: list[str], before: Any = None
) -> dict[int, dict[str, Any]]:
    """Round 1's collection in a copy of `set_up`; every stored episode's arrays (meta too)."""
    shutil.copytree(set_up, root)
    exp = Experiment(root, override(RunConfig(), [*SETS, *sets]))
    try:
        if before is not None:
            before(exp)
        exp.step()
        assert len(exp.round_episodes()) == 8
        store = exp.store
        out = {}
        for i in store.ids():
            with np.load(store.path(i)) as npz:
                out[i] = {k: npz[k] for k in npz.files}
        return out
    finally:
        exp.close()


def assert_same_store(a: dict[int, dict[str, Any]], b: dict[int, dict[str, Any]]) -> None:
    assert list(a) == list(b)
    for i in a:
        assert sorted(a[i]) == sorted(b[i]), i
        for key in a[i]:
            assert a[i][key].dtype == b[i][key].dtype, (i, key)
            assert np.array_equal(a[i][key], b[i][key]), (i, key)


@pytest.fixture(scope="module")
def in_process(set_up: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    return collected(set_up, tmp_path_factory.mktemp("runs") / "in_process", [])


@pytest.mark.slow
def test_collectors_store_what_the_in_process_path_stores(
    set_up: Path, tmp_path: Path, local_ray: None, in_process: dict[int, dict[str, Any]]
) -> None:
    assert_same_store(collected(set_up, tmp_path / "run", ["loop.collectors=2"]), in_process)


@pytest.mark.slow
def test_a_collector_killed_mid_round_loses_and_duplicates_nothing(
    set_up: Path, tmp_path: Path, local_ray: None, in_process: dict[int, dict[str, Any]]
) -> None:
    killed: list[int] = []
    pools: list[CollectorPool] = []

    def kill_after_the_first_wave(exp: Experiment) -> None:
        pool = exp.collectors()
        pools.append(pool)

        def after_wave(wave: int) -> None:
            if not killed and pool.in_flight:  # an actor with a wave still to come back
                actor, unfinished = min(pool.in_flight.values(), key=lambda v: v[1])
                ray.kill(actor)
                killed.append(unfinished)

        pool.after_wave = after_wave

    store = collected(
        set_up, tmp_path / "run", ["loop.collectors=2"], before=kill_after_the_first_wave
    )
    assert killed
    assert pools[0].replaced == 1  # the killed actor's unfinished waves ran on its replacement
    jobs = [int(json_meta(e)["job"]) for e in store.values() if json_meta(e)["round"] == 1]
    assert sorted(jobs) == list(range(8))  # each job once
    assert_same_store(store, in_process)


def json_meta(arrays: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(str(arrays["meta"]))
    return meta


def test_a_pool_keeps_its_actors_across_rounds_and_a_wave_error_is_raised(
    local_ray: None,
) -> None:
    config = override(RunConfig(), [*TINY, "data.view_frames=false"])
    learner = Learner(config.learner, seed=0)
    plan = (Skill.from_text("open the gripper"),)
    jobs = [CollectJob(j, 10 + j, "open the gripper", plan) for j in range(3)]

    def seed_for(wave: int) -> int:
        return 7 + wave

    here = list(collect(lambda w: learner.policy(seed=seed_for(w)), jobs, config, round=1))
    with CollectorPool(2) as pool:
        pids = pool.ready()
        for _ in range(2):  # a second round's collection: the same actors, weights loaded again
            there = list(pool.collect(learner, seed_for, jobs, config, round=1))
            assert [e.job for e in there] == [0, 1, 2]
            for a, b in zip(here, there, strict=True):
                assert np.array_equal(a.actions, b.actions)
        assert pool.ready() == pids
        assert pool.replaced == 0
        broken = [CollectJob(0, 1, "nothing to do", ())]  # our bug, not a dead actor: raised
        with pytest.raises(IndexError):
            list(pool.collect(learner, seed_for, broken, config, round=3))
        assert pool.replaced == 0
    assert ray.is_initialized()  # the pool did not start this Ray, so it leaves it running
    with pytest.raises(CollectorError, match="3 collectors need 3 of Ray's CPUs"):
        CollectorPool(3)  # on 2 CPUs the third would never start: said at once, not a hang


def test_collection_in_process_imports_no_ray(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from gameon_nb.config import RunConfig, override\n"
        "from gameon_nb.loop import TINY, Experiment\n"
        f"exp = Experiment({str(tmp_path)!r}, override(RunConfig(), [*TINY, 'loop.rounds=1']))\n"
        "while exp.next_stage != 'judge':\n"
        "    exp.step()\n"
        "assert exp.round_episodes(), 'nothing collected'\n"
        "exp.close()\n"
        "print('ray' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "False"


@pytest.mark.slow
def test_the_collect_bench_reports_every_side_on_tiny_numbers(local_ray: None) -> None:
    from gameon_nb.bench.collect import measure_collect

    report = measure_collect(episodes=4, trials=1, sets=TINY)
    for key in ("inprocess_eps_per_s", "ray1_eps_per_s", "ray2_eps_per_s"):
        assert report[key] > 0
    assert report["ray1_overhead_ratio"] == pytest.approx(
        report["inprocess_eps_per_s"] / report["ray1_eps_per_s"], rel=1e-2
    )
    assert report["same_episodes"] is True
    assert [row["collectors"] for row in report["projected"]][:2] == [1, 2]


def test_the_projection_is_bound_by_collectors_then_waves_then_the_driver() -> None:
    from gameon_nb.bench.collect import project

    # 16 episodes in waves of 8: two waves, so a third collector finds nothing to do
    rows = project(per_collector=2.0, store_s=0.1, episodes=16, envs=8, counts=(1, 2, 3))
    assert [(r["eps_per_s"], r["bound"]) for r in rows] == [
        (2.0, "collectors"), (4.0, "collectors"), (4.0, "waves"),
    ]  # fmt: skip
    # 64 in waves of 8: eight collectors would give 16/s, but storing takes 0.1 s an episode
    rows = project(per_collector=2.0, store_s=0.1, episodes=64, envs=8, counts=(4, 8))
    assert [(r["eps_per_s"], r["bound"]) for r in rows] == [(8.0, "collectors"), (10.0, "driver")]
