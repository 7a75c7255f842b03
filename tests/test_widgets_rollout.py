"""RolloutViewer and rollout_html: traits, verdicts, seeking, errors, and the static HTML."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
import traitlets
from bs4 import BeautifulSoup

from gameon_nb.data.relabel import step_rewards
from gameon_nb.data.store import EpisodeStore
from gameon_nb.loop import events as ev
from gameon_nb.loop.summaries import JudgedExecution
from gameon_nb.run.dir import RunDir
from gameon_nb.skills.skill import Skill
from gameon_nb.widgets import (
    EmptyEpisodeError,
    RolloutViewer,
    UnknownCameraError,
    rollout_html,
)
from gameon_nb.widgets import encoding as encoding_module
from gameon_nb.widgets.encoding import decode_image
from gameon_nb.widgets.rollout import filmstrip_indices, prepare_rollout, step_label
from gameon_nb.widgets.verdicts import Judgement, episode_verdicts

EPISODE = 2  # two segments in the small run: the first succeeds, the second fails


@dataclass(frozen=True)
class FakeVerdict:
    """Shaped like the experimenter's Verdict (read by attribute only)."""

    success: bool
    reasoning: str
    backend: str = "scripted"
    fallback: bool = False
    calls: list[str] = field(default_factory=list)


def assert_shows_frame(decoded: np.ndarray, frames: np.ndarray, k: int) -> None:
    """The decoded (JPEG) image is frame `k`: nearer to it than to any frame that differs from it.

    Neighbouring frames of a slow motion differ by a mean of 0-2.3 grey levels, JPEG by about as
    much, so a fixed tolerance cannot tell them apart; the nearest frame can.
    """
    assert decoded.shape == frames[k].shape
    distance = np.abs(decoded.astype(int)[None] - frames.astype(int)).mean(axis=(1, 2, 3))
    nearest = int(distance.argmin())
    assert np.array_equal(frames[nearest], frames[k]), (k, nearest, distance.round(2).tolist())


@pytest.fixture(scope="module")
def store(small_run: Path) -> EpisodeStore:
    return EpisodeStore(small_run / "episodes")


@pytest.fixture(scope="module")
def viewer(store: EpisodeStore) -> RolloutViewer:
    return RolloutViewer((store, EPISODE), progress=False)


def test_traits_hold_frames_cameras_and_segments(
    store: EpisodeStore, viewer: RolloutViewer
) -> None:
    episode = store.load(EPISODE)
    assert viewer.cameras == ["experimenter", "front_left", "front_right"]
    assert viewer.camera == "experimenter"
    assert viewer.frame_steps == episode.frame_steps.tolist()
    assert viewer.steps == episode.steps == 200
    assert viewer.task == episode.task
    for camera in viewer.cameras:
        images = viewer.frames[camera]
        assert len(images) == len(episode.frame_steps)
        assert all(isinstance(image, bytes) for image in images)
        decoded = decode_image(images[7])
        original = episode.frames[camera][7]
        assert decoded.shape == original.shape
        assert_shows_frame(decoded, episode.frames[camera], 7)
    segments = viewer.segments
    assert [s["skill"] for s in segments] == list(episode.skills)
    assert [(s["start"], s["end"]) for s in segments] == list(episode.segments)
    assert [s["success"] for s in segments] == episode.segment_success() == [True, False]
    assert [s["verdict"] for s in segments] == [None, None]
    assert [s["agreement"] for s in segments] == ["unjudged", "unjudged"]
    for segment in segments:
        expected = step_rewards(episode.states, Skill.from_text(segment["skill"]))
        assert np.array_equal(segment["rewards"], expected)
    # the first skill holds at its end and the second never does: the reward lanes show it
    assert segments[0]["rewards"][99] == 1.0
    assert max(segments[1]["rewards"][100:]) == 0.0


def test_esm_and_css_are_the_front_end_files(viewer: RolloutViewer) -> None:
    assert "export default" in viewer._esm
    assert "render" in viewer._esm
    assert ".gameon-rollout" in viewer._css


def test_verdicts_from_objects_and_bools(store: EpisodeStore) -> None:
    verdicts = [
        FakeVerdict(True, "the green block hovers over the red one", calls=["c1"]),
        FakeVerdict(True, "looks fine", backend="gemini"),
    ]
    viewer = RolloutViewer((store, EPISODE), verdicts=verdicts, progress=False)
    first, second = viewer.segments
    assert (first["verdict"], first["agreement"], first["calls"]) == (True, "agree", 1)
    assert first["reasoning"] == "the green block hovers over the red one"
    assert (second["verdict"], second["agreement"], second["backend"]) == (
        True,
        "disagree",
        "gemini",
    )
    viewer.set_verdicts([None, False])
    assert [s["agreement"] for s in viewer.segments] == ["unjudged", "agree"]
    with pytest.raises(ValueError, match="one verdict per skill segment"):
        viewer.set_verdicts([True])
    with pytest.raises(TypeError, match="success"):
        viewer.set_verdicts([True, object()])


def test_seek_index_and_playback_traits(viewer: RolloutViewer) -> None:
    viewer.seek(101)
    assert (viewer.index, viewer.step) == (viewer.frame_steps.index(100), 100)
    viewer.seek(viewer.steps)
    assert viewer.index == len(viewer.frame_steps) - 1
    viewer.seek(0)
    assert viewer.index == 0
    with pytest.raises(ValueError, match="outside"):
        viewer.seek(viewer.steps + 1)
    with pytest.raises(traitlets.TraitError, match="outside"):
        viewer.index = len(viewer.frame_steps)
    with pytest.raises(traitlets.TraitError, match="> 0"):
        viewer.speed = 0


def test_unknown_camera_lists_the_known_ones(store: EpisodeStore, viewer: RolloutViewer) -> None:
    with pytest.raises(UnknownCameraError, match=r"no 'top' frames; it has \['experimenter'"):
        RolloutViewer((store, EPISODE), camera="top", progress=False)
    with pytest.raises(UnknownCameraError, match="front_right"):
        RolloutViewer((store, EPISODE), cameras=["front_left", "side"], progress=False)
    with pytest.raises(UnknownCameraError, match="front_left"):
        viewer.camera = "top"
    assert viewer.camera == "experimenter"
    one = RolloutViewer((store, EPISODE), cameras=["front_left"], progress=False)
    assert one.cameras == ["front_left"]
    assert one.camera == "front_left"
    assert list(one.frames) == ["front_left"]


def test_empty_episodes_are_refused(store: EpisodeStore) -> None:
    episode = store.load(EPISODE)
    with pytest.raises(EmptyEpisodeError, match="no frames"):
        RolloutViewer(store.load(EPISODE, frames=False), progress=False)
    empty = replace(
        episode,
        skills=(),
        segments=(),
        actions=episode.actions[:0],
        proprio=episode.proprio[:1],
        states=episode.states[:1],
        frames={},
        frame_steps=episode.frame_steps[:0],
    )
    with pytest.raises(EmptyEpisodeError, match="is empty"):
        RolloutViewer(empty, progress=False)
    with pytest.raises(FileNotFoundError, match="no run or episodes directory"):
        RolloutViewer((Path("/nonexistent/run"), 0), progress=False)
    with pytest.raises(KeyError, match="no episode 99"):
        RolloutViewer((store, 99), progress=False)


def test_encoding_shows_a_progress_bar(
    store: EpisodeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars: list[dict[str, object]] = []
    real = encoding_module.progress_bar

    def recording(iterable: object, **kwargs: object) -> object:
        bars.append(kwargs)
        return real(iterable, **kwargs)

    monkeypatch.setattr(encoding_module, "progress_bar", recording)
    RolloutViewer((store, EPISODE), cameras=["front_left", "experimenter"])
    assert len(bars) == 2
    assert all(bar["disable"] is False and bar["unit"] == "frame" for bar in bars)
    RolloutViewer((store, EPISODE), progress=False)
    assert all(bar["disable"] is True for bar in bars[2:])


def _images(soup: BeautifulSoup, css_class: str | None = None) -> list[bytes]:
    found = soup.select(f"img.{css_class}" if css_class else ".gameon-filmstrip img")
    out = []
    for img in found:
        head, _, payload = img["src"].partition(",")
        assert head.startswith("data:image/"), head
        assert head.endswith(";base64"), head
        out.append(base64.b64decode(payload))
    return out


def test_rollout_html_is_self_contained(small_run: Path, store: EpisodeStore) -> None:
    episode = store.load(EPISODE)
    html = rollout_html(
        (small_run, EPISODE), verdicts=[FakeVerdict(True, "ok"), True], max_frames=6
    )
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script")
    frames = _images(soup)
    assert 3 <= len(frames) <= 6
    steps = [int(img["data-step"]) for img in soup.select(".gameon-filmstrip img")]
    assert {0, 100, 200} <= set(steps)  # every segment boundary is in the strip
    for data, step in zip(frames, steps, strict=True):
        k = episode.frame_steps.tolist().index(step)
        decoded = decode_image(data)
        assert decoded.shape == (48, 64, 3)
        assert_shows_frame(decoded, episode.frames["experimenter"], k)
    segments = soup.select(".gameon-timeline .gameon-segment")
    assert [s["data-success"] for s in segments] == ["true", "false"]
    assert [s["data-agreement"] for s in segments] == ["agree", "disagree"]
    assert "judge ✓" in segments[1].get_text()
    assert "judge agrees on 1/2" in soup.get_text()
    (lanes,) = _images(soup, "gameon-rewards")
    svg = ElementTree.fromstring(lanes)
    assert len(svg.findall(".//{http://www.w3.org/2000/svg}polyline")) == 2
    assert episode.task in soup.get_text()


def test_widget_display_carries_its_twin(viewer: RolloutViewer) -> None:
    data, _ = viewer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    soup = BeautifulSoup(data["text/html"], "html.parser")
    assert len(soup.select(".gameon-segment")) == 2
    assert "experimenter camera" in soup.get_text()
    assert viewer._repr_html_() == viewer.to_html()
    viewer.camera = "front_left"
    try:
        (first, *_) = _images(BeautifulSoup(viewer.to_html(), "html.parser"))
        assert decode_image(first).shape == (32, 32, 3)
    finally:
        viewer.camera = "experimenter"


def test_filmstrip_keeps_boundaries_and_spreads_the_rest(store: EpisodeStore) -> None:
    rollout = prepare_rollout((store, 3), cameras=["front_left"], progress=False)
    steps = rollout.frame_steps
    chosen = filmstrip_indices(rollout, 8)
    assert chosen == sorted(set(chosen))
    picked = {steps[i] for i in chosen}
    assert {0, 50, 150, 200} <= picked
    assert len(chosen) == 8
    assert filmstrip_indices(rollout, 100) == list(range(len(steps)))


def judged(episode: int, segment: int | None, verdict: bool, truth: bool) -> JudgedExecution:
    return JudgedExecution(
        episode=episode, segment=segment, skill="lift the red block", truth=truth,
        verdict=verdict, reasoning=f"seen {verdict}", backend="gemini", fallback=False,
    )  # fmt: skip


def judge_event(*verdicts: JudgedExecution, round: int = 1) -> ev.JudgeAgreement:
    return ev.JudgeAgreement(
        round=round, stage="judge", judged=len(verdicts), agree=0, backend="gemini",
        verdicts=list(verdicts),
    )  # fmt: skip


def test_episode_verdicts_are_the_judges_word_per_segment() -> None:
    log: list[ev.Event] = [
        ev.StageStarted(round=1, stage="judge"),
        judge_event(judged(EPISODE, 1, True, False), judged(EPISODE, None, False, False)),
        judge_event(judged(EPISODE + 1, 0, True, True)),
        judge_event(judged(EPISODE, 1, False, False), round=2),  # judged again: the later word
    ]
    first, second = episode_verdicts(log, EPISODE, 2)
    assert first is None  # not judged; the task's verdict (segment None) is no segment's
    assert second == Judgement(False, "seen False", "gemini", "")
    assert episode_verdicts(log, EPISODE + 1, 1) == [Judgement(True, "seen True", "gemini", "")]
    assert episode_verdicts(log, 99, 3) == [None, None, None]
    with pytest.raises(ValueError, match="judged segment 1 of episode 2, which has 1"):
        episode_verdicts(log, EPISODE, 1)


@pytest.fixture
def judged_run(small_run: Path, tmp_path: Path) -> RunDir:
    """A run directory whose log says the judge judged the second segment of EPISODE (wrongly:
    it failed) and the task, holding the small run's episodes."""
    run = RunDir(tmp_path / "run")
    run.root.mkdir()
    run.episodes.symlink_to(small_run / "episodes")
    log = ev.EventLog(run.events_path)
    log.append(judge_event(judged(EPISODE, 1, True, False), judged(EPISODE, None, True, False)))
    return run


def test_a_rollout_opened_on_a_run_shows_its_judges_verdicts(judged_run: RunDir) -> None:
    for where in (judged_run.root, str(judged_run.root), judged_run.store(), judged_run.episodes):
        viewer = RolloutViewer((where, EPISODE), progress=False)
        assert [s["verdict"] for s in viewer.segments] == [None, True], where
        assert [s["agreement"] for s in viewer.segments] == ["unjudged", "disagree"]
        assert viewer.segments[1]["reasoning"] == "seen True"
        assert viewer.segments[1]["backend"] == "gemini"
    soup = BeautifulSoup(rollout_html((judged_run.root, EPISODE)), "html.parser")
    segments = soup.select(".gameon-timeline .gameon-segment")
    assert [s["data-verdict"] for s in segments] == ["none", "true"]
    assert [s["data-agreement"] for s in segments] == ["unjudged", "disagree"]
    assert segments[1].select_one(".gameon-segment-verdict").get_text() == "truth ✗ · judge ✓"
    assert "judge agrees on 0/1" in soup.get_text()
    # verdicts given win over the log's; an episode given itself has no run to read
    given = RolloutViewer((judged_run.root, EPISODE), verdicts=[False, None], progress=False)
    assert [s["verdict"] for s in given.segments] == [False, None]
    alone = RolloutViewer(judged_run.store().load(EPISODE), progress=False)
    assert [s["verdict"] for s in alone.segments] == [None, None]


def test_a_viewer_takes_verdicts_judged_after_it_opened(judged_run: RunDir) -> None:
    viewer = RolloutViewer((judged_run.root, EPISODE), progress=False)
    log = ev.EventLog(judged_run.events_path)
    log.append(judge_event(judged(EPISODE, 0, True, True), round=2))
    viewer.set_verdicts(episode_verdicts(log.read(), EPISODE, len(viewer.segments)))
    assert [s["verdict"] for s in viewer.segments] == [True, True]
    twin = BeautifulSoup(viewer.to_html(), "html.parser")
    assert [s["data-agreement"] for s in twin.select(".gameon-segment")] == ["agree", "disagree"]


def test_segments_give_the_skill_name_its_own_lines_and_steps_one_label(
    store: EpisodeStore,
) -> None:
    episode = store.load(EPISODE)
    soup = BeautifulSoup(rollout_html(episode, verdicts=[None, False]), "html.parser")
    for segment, skill in zip(soup.select(".gameon-segment"), episode.skills, strict=True):
        # the name first and alone, whole; the verdict under it, where it cuts nothing short
        first, second = segment.find_all("div", recursive=False)
        assert first["class"] == ["gameon-segment-skill"]
        assert first.get_text() == skill
        assert "white-space:nowrap" not in first["style"]
        assert "-webkit-line-clamp:2" in first["style"]
        assert second["class"] == ["gameon-segment-verdict"]
    assert [
        s.select_one(".gameon-segment-verdict").get_text() for s in soup.select(".gameon-segment")
    ] == ["truth ✓ · judge —", "truth ✗ · judge ✗"]
    captions = [c.get_text() for c in soup.select(".gameon-filmstrip figcaption")]
    assert captions[0] == step_label(0, 200) == "step 0 / 200"
    assert captions[-1] == "step 200 / 200"
