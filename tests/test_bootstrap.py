"""Bootstrap data: deterministic whatever the workers, successes and failures, resumable, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import bootstrap, first_composite
from gameon_nb.data.store import EpisodeStore
from gameon_nb.skills.library import SkillLibrary


def test_same_seed_same_episodes_whatever_the_workers(
    tmp_path: Path, small_config: RunConfig
) -> None:
    one = override(
        small_config, ["bootstrap.episodes=4", "bootstrap.workers=1", "data.policy_frames=false"]
    )
    two = override(one, ["bootstrap.workers=2"])
    bootstrap(tmp_path / "a", one, progress=False)
    bootstrap(tmp_path / "b", two, progress=False)
    a, b = EpisodeStore(tmp_path / "a" / "episodes"), EpisodeStore(tmp_path / "b" / "episodes")
    for i in range(4):
        ea, eb = a.load(i), b.load(i)
        assert ea.skills == eb.skills
        assert np.array_equal(ea.actions, eb.actions)
        assert np.array_equal(ea.frames["experimenter"], eb.frames["experimenter"])


def test_data_holds_successes_and_failures(small_run: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    outcomes = [ok for i in store.ids() for ok in store.load(i, frames=False).segment_success()]
    assert any(outcomes)
    assert not all(outcomes)
    skills = {s for i in store.ids() for s in store.meta(i)["skills"]}
    assert len(skills) >= 4


def test_resumes_where_it_stopped(tmp_path: Path, small_config: RunConfig) -> None:
    cfg = override(small_config, ["bootstrap.episodes=2", "data.policy_frames=false"])
    bootstrap(tmp_path, cfg, progress=False)
    more = bootstrap(tmp_path, override(cfg, ["bootstrap.episodes=3"]), progress=False)
    assert more["written"] == 1
    assert more["episodes"] == 3


def test_cli_writes_store_config_and_library(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gameon_nb.cli", "bootstrap", "--run-dir", str(tmp_path),
         "--episodes", "3", "--workers", "1", "--json", "--set", "sim.view_size=[48,64]"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(out.stdout)
    assert report["episodes"] == 3
    assert report["steps_per_s"] > 0
    assert "bootstrap" in out.stderr  # the progress bar
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["bootstrap"]["episodes"] == 3
    assert config["sim"]["view_size"] == [48, 64]
    library = SkillLibrary.load(tmp_path / "library.json")
    assert sum(library[t].reward_steps for t in library.known()) > 0
    bad = subprocess.run(
        [sys.executable, "-m", "gameon_nb.cli", "bootstrap", "--run-dir", str(tmp_path),
         "--set", "bootstrap.episodes=many"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "expected int" in bad.stderr


def test_the_clean_bootstrap_cuts_each_episode_before_any_composite(tmp_path: Path) -> None:
    keep = override(
        RunConfig(),
        ["bootstrap.episodes=4", "bootstrap.workers=1", "data.policy_frames=false",
         "data.view_frames=false"],
    )  # fmt: skip
    clean = override(keep, ["bootstrap.composites=exclude"])
    kept, cut = (
        bootstrap(tmp_path / "keep", keep, False),
        bootstrap(tmp_path / "clean", clean, False),
    )
    # seed 0's episodes 2 and 3 stack a held block by chance; the report counts them
    assert sum(kept["composite_successes"].values()) >= 2
    assert sum(cut["composite_successes"].values()) == 0
    a, b = (
        EpisodeStore(tmp_path / "keep" / "episodes"),
        EpisodeStore(tmp_path / "clean" / "episodes"),
    )
    shortened = 0
    for i in range(4):
        whole, clean_ep = a.load(i), b.load(i)
        first = first_composite(whole.states)
        assert first_composite(clean_ep.states) is None
        steps = clean_ep.steps
        assert np.array_equal(clean_ep.actions, whole.actions[:steps])  # the same episode, cut
        if first is None:
            assert steps == whole.steps
        else:
            assert steps == first - 1  # the action that made it is not kept
            shortened += 1
            assert clean_ep.segments[-1][1] == steps
    assert shortened >= 2


def test_one_process_bootstraps_runs_of_different_sim_configs(tmp_path: Path) -> None:
    small = override(RunConfig(), ["bootstrap.episodes=1", "bootstrap.workers=1"])
    bootstrap(tmp_path / "a", small, progress=False)
    other = override(small, ["sim.image_size=[32,32]"])
    bootstrap(tmp_path / "b", other, progress=False)  # the cached env must not be reused
    frames = EpisodeStore(tmp_path / "b" / "episodes").frames(0, "front_left")
    assert frames.shape[1:] == (32, 32, 3)
