"""EpisodeStore: round trip, pandas tables, frames, corruption by name, SIGKILL mid-write."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gameon_nb.data.store import EpisodeStore, StoreCorruptError


def copy_run(small_run: Path, tmp_path: Path) -> EpisodeStore:
    shutil.copytree(small_run / "episodes", tmp_path / "episodes")
    return EpisodeStore(tmp_path / "episodes")


def test_round_trip(small_run: Path, tmp_path: Path) -> None:
    store = copy_run(small_run, tmp_path)
    episode = store.load(3)
    assert episode.id == 3
    again_id = store.append(episode)
    assert again_id == 8
    again = store.load(again_id)
    assert again.task == episode.task
    assert again.skills == episode.skills
    assert again.segments == episode.segments
    assert np.array_equal(again.actions, episode.actions)
    for name, value in episode.states.to_arrays().items():
        assert np.array_equal(value, again.states.to_arrays()[name]), name
    assert (
        again.frames.keys()
        == episode.frames.keys()
        == {"front_left", "front_right", "experimenter"}
    )
    assert np.array_equal(again.frames["experimenter"], episode.frames["experimenter"])


def test_tables_and_frames(small_run: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    episodes, steps = store.episodes_table(), store.steps_table()
    assert list(episodes["id"]) == list(range(8))
    assert episodes["steps"].sum() == len(steps)
    assert {"episode", "step", "skill", "action_0", "action_4", "x", "opening"} <= set(
        steps.columns
    )
    assert steps["skill"].notna().all()
    first = store.load(0)
    frames = store.frames(0, "front_left")
    assert frames.shape == (len(first.frame_steps), 32, 32, 3)
    assert store.frames(0, "experimenter").shape[1:] == (48, 64, 3)
    # frames at every skill boundary, for the judge
    for start, end in first.segments:
        assert start in first.frame_steps
        assert end in first.frame_steps
    with pytest.raises(KeyError, match="has no 'top' frames"):
        store.frames(0, "top")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_episode_is_reported_by_name(small_run: Path, tmp_path: Path, damage: str) -> None:
    store = copy_run(small_run, tmp_path)
    path = store.path(2)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        middle = len(data) // 2
        data[middle : middle + 64] = bytes(64)
        path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError, match=r"ep-0000002\.npz"):
        store.load(2)
    report = store.verify()
    assert len(report["damaged"]) == 1
    assert "ep-0000002.npz" in report["damaged"][0]
    store.load(1)  # the others stay readable


WRITER = """
import sys, numpy as np
from gameon_nb.data.store import EpisodeStore
store = EpisodeStore(sys.argv[1])
template = store.load(0)
big = np.random.default_rng(0).integers(0, 255, (400, 64, 64, 3), dtype=np.uint8)
template.frames = {"front_left": big}
template.frame_steps = np.arange(400)
print("ready", flush=True)
while True:
    store.append(template)
"""


def test_sigkill_mid_write_loses_at_most_the_episode_in_flight(
    small_run: Path, tmp_path: Path
) -> None:
    store = copy_run(small_run, tmp_path)
    for delay in (0.7, 1.3, 2.1):
        before = len(store)
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store.root)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        ids = store.ids()
        assert ids == list(range(len(ids)))  # no gaps, no duplicates
        assert len(ids) > before  # it did write whole episodes before dying
        report = store.verify()
        assert report["damaged"] == []
        store.remove_stale_temporaries()
        assert store.verify()["stale_temporaries"] == []
        store.load(ids[-1])
