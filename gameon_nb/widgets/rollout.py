"""Rollouts in a notebook: `RolloutViewer` plays an episode's frames; `rollout_html` is its twin.

    >>> viewer = RolloutViewer((run_dir, 3))        # the judge's verdicts read from the run's log
    >>> viewer = RolloutViewer((store, 3), verdicts=[True, False])   # or RolloutViewer(episode)
    >>> viewer.camera = "front_left"; viewer.seek(120); viewer.to_html()
    >>> show_rollout(run_dir, 3, static=True)                        # a filmstrip, no kernel needed

The frames go to the browser once, as one JPEG (or PNG) per frame in a binary synced trait, and
play there: no round trip to the kernel per frame. Under the frame: the skill segments, coloured
by ground truth and marked with the judge's verdict, and each segment's skill reward per step
(relabelled from the stored scene states), with the current step marked. Opened on a run (a run
directory or its store) with no `verdicts`, the viewer shows what the loop's judge said of the
episode in the run's event log (`episode_verdicts`). Steps are labelled `step_label` everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeAlias, TypedDict

import numpy as np
import numpy.typing as npt
import traitlets as t

from gameon_nb.data.episode import Episode
from gameon_nb.data.relabel import step_rewards
from gameon_nb.data.store import EpisodeStore
from gameon_nb.run.dir import RunDir
from gameon_nb.skills.skill import Skill
from gameon_nb.widgets.assets import asset_path
from gameon_nb.widgets.base import TwinWidget
from gameon_nb.widgets.encoding import MIME, ImageFormat, data_uri, encode_frames
from gameon_nb.widgets.markup import (
    AGREEMENT_COLOUR,
    BOX,
    DISAGREE,
    chip,
    escape,
    outcome_colour,
    outcome_text,
)
from gameon_nb.widgets.svg import colour, reward_lanes_svg, svg_img
from gameon_nb.widgets.verdicts import Judgement, agreement, as_judgement, episode_verdicts

__all__ = [
    "EmptyEpisodeError",
    "EpisodeSource",
    "Rollout",
    "RolloutSegment",
    "RolloutViewer",
    "UnknownCameraError",
    "judged_frames",
    "load_episode",
    "prepare_rollout",
    "rollout_html",
    "show_rollout",
    "step_label",
]

EpisodeSource: TypeAlias = Episode | tuple[EpisodeStore | Path | str, int]
"""An episode, or (store, id) where the store may be given as a run or episodes directory."""

PREFERRED_CAMERA = "experimenter"


class UnknownCameraError(KeyError):
    """A camera the episode has no frames of; the message lists those it has."""

    def __str__(self) -> str:
        return str(self.args[0])


class EmptyEpisodeError(ValueError):
    """An episode with no steps, no skill segments or no frames: nothing to play."""


def open_store(where: EpisodeStore | Path | str) -> EpisodeStore:
    """An EpisodeStore from itself, a run directory (with episodes/) or an episodes directory."""
    if isinstance(where, EpisodeStore):
        return where
    path = Path(where)
    if RunDir(path).episodes.is_dir():
        path = RunDir(path).episodes
    if not path.is_dir():
        raise FileNotFoundError(f"no run or episodes directory at {path}")
    return EpisodeStore(path)


def step_label(step: int, steps: int) -> str:
    """'step 40 / 60': a state index as the viewer, the filmstrip and the judge cards name it."""
    return f"step {step} / {steps}"


def judged_frames(
    episode: Episode, camera: str, segment: int | None
) -> tuple[list[npt.NDArray[np.uint8]], list[str]]:
    """The frames of a segment (None: the whole episode, as for the task) the loop's judge saw,
    its first and last, with their step labels: what a JudgementCard of it shows.

    >>> frames, labels = judged_frames(episode, "experimenter", 0)   # labels: ['step 0 / 60', ...]
    """
    frames, steps = episode.segment_frames(camera, segment, ends_only=True)
    return frames, [step_label(s, episode.steps) for s in steps]


def run_of(where: EpisodeStore | Path | str) -> RunDir | None:
    """The run a store, run directory or episodes directory belongs to, if it has an event log."""
    path = (where.root if isinstance(where, EpisodeStore) else Path(where)).absolute()
    for run in (RunDir(path), RunDir(path.parent)):
        if run.events_path.is_file() and path in (run.root, run.episodes):
            return run
    return None


def logged_verdicts(run: RunDir, episode: Episode) -> list[Judgement | None]:
    """What the run's judge said of each segment of `episode` (None where it did not judge)."""
    if episode.id is None:
        return [None] * len(episode.segments)
    from gameon_nb.loop.events import EventLog  # the loop's package imports torch: only here

    return episode_verdicts(EventLog(run.events_path).read(), episode.id, len(episode.segments))


def load_episode(source: EpisodeSource) -> Episode:
    """The episode itself, or episode `id` read with its frames from a store or run directory."""
    if isinstance(source, Episode):
        return source
    where, episode_id = source
    return open_store(where).load(episode_id)


class SegmentState(TypedDict):
    """A segment in the viewer's synced state (what rollout.js reads)."""

    skill: str
    start: int
    end: int
    success: bool
    verdict: bool | None
    reasoning: str
    backend: str
    fallback: str
    calls: int | None
    agreement: str
    rewards: list[float]


@dataclass(frozen=True)
class RolloutSegment:
    """One skill execution in an episode, as shown."""

    skill: str
    start: int
    end: int
    success: bool
    """Ground truth: the skill's predicate on the state the segment ends in."""
    judgement: Judgement
    rewards: tuple[float, ...]
    """The skill's reward at every step of the episode (not only its own)."""

    @property
    def agreement(self) -> str:
        return agreement(self.judgement.success, self.success)

    def to_state(self) -> SegmentState:
        """The segment as the front end reads it."""
        j = self.judgement
        return SegmentState(
            skill=self.skill, start=self.start, end=self.end, success=self.success,
            verdict=j.success, reasoning=j.reasoning, backend=j.backend, fallback=j.fallback,
            calls=j.calls, agreement=self.agreement, rewards=list(self.rewards),
        )  # fmt: skip

    @classmethod
    def from_state(cls, state: SegmentState) -> RolloutSegment:
        return cls(
            skill=state["skill"],
            start=state["start"],
            end=state["end"],
            success=state["success"],
            judgement=Judgement(
                state["verdict"],
                state["reasoning"],
                state["backend"],
                state["fallback"],
                state["calls"],
            ),
            rewards=tuple(state["rewards"]),
        )


@dataclass(frozen=True)
class Rollout:
    """An episode ready to show: frames encoded per camera, segments with outcomes and rewards."""

    episode_id: int | None
    round: int
    task: str
    steps: int
    mime: str
    frames: dict[str, list[bytes]]
    """Encoded frames per camera, all cameras at the same `frame_steps`."""
    frame_steps: list[int]
    """State index of each frame, ascending."""
    segments: list[RolloutSegment]

    @property
    def cameras(self) -> list[str]:
        """Cameras with frames, the experimenter's view first."""
        return sorted(self.frames, key=lambda c: (c != PREFERRED_CAMERA, c))

    def check_camera(self, camera: str) -> str:
        if camera not in self.frames:
            raise UnknownCameraError(
                f"episode {self.episode_id} has no {camera!r} frames; it has {self.cameras}"
            )
        return camera


def judgements(verdicts: Sequence[object] | None, segments: int) -> list[Judgement]:
    """One Judgement per segment from None (no verdicts) or one verdict-like per segment."""
    if verdicts is None:
        return [Judgement(None)] * segments
    if isinstance(verdicts, (str, bytes)) or len(verdicts) != segments:
        raise ValueError(
            f"give one verdict per skill segment ({segments}, None where unjudged), "
            f"got {verdicts!r}"
        )
    return [as_judgement(v) for v in verdicts]


def prepare_rollout(
    source: EpisodeSource,
    *,
    cameras: Sequence[str] | None = None,
    verdicts: Sequence[object] | None = None,
    fmt: ImageFormat = "jpeg",
    quality: int = 85,
    progress: bool = True,
) -> Rollout:
    """Encode an episode's frames and gather its segments' outcomes, verdicts and rewards; with
    no `verdicts`, an episode of a run shows what the run's judge said (`logged_verdicts`)."""
    episode = load_episode(source)
    if verdicts is None and not isinstance(source, Episode):
        run = run_of(source[0])
        verdicts = None if run is None else logged_verdicts(run, episode)
    name = f"episode {episode.id}"
    if episode.steps == 0 or not episode.segments:
        raise EmptyEpisodeError(f"{name} is empty: {episode.steps} steps, no skill to show")
    if not episode.frames or len(episode.frame_steps) == 0:
        raise EmptyEpisodeError(
            f"{name} holds no frames (recorded with data.view_frames and data.policy_frames "
            "off, or loaded with frames=False)"
        )
    known = sorted(episode.frames, key=lambda c: (c != PREFERRED_CAMERA, c))
    chosen = list(known if cameras is None else cameras)
    for camera in chosen:
        if camera not in episode.frames:
            raise UnknownCameraError(f"{name} has no {camera!r} frames; it has {known}")
    if not chosen:
        raise ValueError(f"choose at least one camera of {known}")
    total = len(episode.frame_steps) * len(chosen)
    frames = {
        camera: encode_frames(
            episode.frames[camera],
            fmt,
            quality,
            progress=progress and total > 0,
            desc=f"{name}, {camera}",
        )
        for camera in chosen
    }
    truth = episode.segment_success()
    segments = [
        RolloutSegment(
            skill=skill,
            start=start,
            end=end,
            success=ok,
            judgement=judgement,
            rewards=tuple(float(r) for r in step_rewards(episode.states, Skill.from_text(skill))),
        )
        for skill, (start, end), ok, judgement in zip(
            episode.skills,
            episode.segments,
            truth,
            judgements(verdicts, len(episode.segments)),
            strict=True,
        )
    ]
    return Rollout(
        episode_id=episode.id,
        round=episode.round,
        task=episode.task,
        steps=episode.steps,
        mime=MIME[fmt],
        frames=frames,
        frame_steps=[int(s) for s in episode.frame_steps],
        segments=segments,
    )


def filmstrip_indices(rollout: Rollout, max_frames: int) -> list[int]:
    """Frames for a static strip: every segment boundary, then evenly spaced ones up to max."""
    steps = rollout.frame_steps
    boundaries = {s for seg in rollout.segments for s in (seg.start, seg.end)}
    chosen = {i for i, s in enumerate(steps) if s in boundaries}
    spaced = np.linspace(0, len(steps) - 1, max(max_frames, 1)).round().astype(int)
    for i in spaced:
        if len(chosen) >= max_frames:
            break
        chosen.add(int(i))
    return sorted(chosen)


SKILL_LINES = 2
"""Lines a timeline segment gives its skill name, above the verdict's own line."""


def _segment_markup(index: int, segment: RolloutSegment, steps: int) -> str:
    verdict = segment.judgement.success
    width = 100 * (segment.end - segment.start) / max(steps, 1)
    judge = "—" if verdict is None else ("✓" if verdict else "✗")
    title = (
        f"{segment.skill}, steps {segment.start}–{segment.end}: truth "
        f"{outcome_text(segment.success)}, judge {outcome_text(verdict)}"
        + (f" ({segment.judgement.reasoning})" if segment.judgement.reasoning else "")
    )
    background = outcome_colour(segment.success)
    border = DISAGREE if segment.agreement == "disagree" else background
    clamp = (
        f"display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:{SKILL_LINES};"
        f"max-height:{14 * SKILL_LINES}px;overflow:hidden;overflow-wrap:break-word"
    )
    return (
        f'<div class="gameon-segment" data-index="{index}" '
        f'data-success="{str(segment.success).lower()}" '
        f'data-verdict="{"none" if verdict is None else str(verdict).lower()}" '
        f'data-agreement="{segment.agreement}" title="{escape(title)}" '
        f'style="flex:{segment.end - segment.start} 0 0;min-width:0;width:{width:.2f}%;'
        f"box-sizing:border-box;padding:2px 5px;margin-right:1px;overflow:hidden;"
        f"font-size:12px;line-height:14px;color:white;"
        f"background:{background};border-bottom:4px solid {border};"
        f'border-left:4px solid {colour(index)}">'
        f'<div class="gameon-segment-skill" style="{clamp}">{escape(segment.skill)}</div>'
        '<div class="gameon-segment-verdict" style="white-space:nowrap;overflow:hidden;'
        f'text-overflow:ellipsis;font-size:11px">truth {"✓" if segment.success else "✗"} · '
        f"judge {judge}</div></div>"
    )


def rollout_markup(
    rollout: Rollout, camera: str | None = None, *, max_frames: int = 12, width: int = 640
) -> str:
    """The static HTML of a prepared rollout (see `rollout_html`)."""
    camera = rollout.check_camera(camera or rollout.cameras[0])
    frames = rollout.frames[camera]
    indices = filmstrip_indices(rollout, max_frames)
    thumb = max(64, min(160, (width - 8 * len(indices)) // max(len(indices), 1) * 2))
    strip = "".join(
        f'<figure class="gameon-frame" style="margin:0 4px 4px 0;text-align:center">'
        f'<img src="{data_uri(frames[i], rollout.mime)}" data-step="{rollout.frame_steps[i]}" '
        f'alt="{escape(camera)} at {step_label(rollout.frame_steps[i], rollout.steps)}" '
        f'style="width:{thumb}px;height:auto;display:block">'
        '<figcaption style="font-size:11px;color:#666">'
        f"{step_label(rollout.frame_steps[i], rollout.steps)}</figcaption></figure>"
        for i in indices
    )
    lanes = [(seg.skill, seg.rewards, (seg.start, seg.end)) for seg in rollout.segments]
    agreeing = [s.agreement for s in rollout.segments if s.judgement.success is not None]
    summary = (
        chip(
            f"judge agrees on {agreeing.count('agree')}/{len(agreeing)}",
            AGREEMENT_COLOUR["agree" if all(a == "agree" for a in agreeing) else "disagree"],
        )
        if agreeing
        else ""
    )
    title = f"Episode {rollout.episode_id}" if rollout.episode_id is not None else "Episode"
    return (
        f'<div class="gameon-rollout gameon-static" style="{BOX};max-width:{width}px">'
        f'<div style="margin-bottom:4px"><b>{title}</b> · round {rollout.round} · '
        f"{rollout.steps} steps · {escape(camera)} camera · {len(frames)} frames "
        f"(showing {len(indices)}) {summary}</div>"
        f'<div style="margin-bottom:4px">task: <i>{escape(rollout.task)}</i></div>'
        f'<div class="gameon-filmstrip" style="display:flex;flex-wrap:wrap">{strip}</div>'
        f'<div class="gameon-timeline" style="display:flex;width:{width}px;margin:4px 0">'
        + "".join(_segment_markup(i, s, rollout.steps) for i, s in enumerate(rollout.segments))
        + "</div>"
        + svg_img(
            reward_lanes_svg(lanes, rollout.steps, width=width),
            "reward of each segment's skill per step",
            "gameon-rewards",
        )
        + '<div style="font-size:11px;color:#666">segments: green succeeded, red failed '
        "(ground truth), judge ✓/✗, a yellow underline where it disagrees · lanes: each "
        "segment's skill reward per step, its own steps shaded</div></div>"
    )


def rollout_html(
    source: EpisodeSource | Rollout,
    *,
    camera: str | None = None,
    verdicts: Sequence[object] | None = None,
    max_frames: int = 12,
    width: int = 640,
    fmt: ImageFormat = "jpeg",
    quality: int = 85,
) -> str:
    """Static HTML of an episode: a filmstrip, the segment timeline and the reward lanes.

    >>> html = rollout_html((store, 3), verdicts=[True, None])
    >>> html = rollout_html(episode, camera="front_left", max_frames=8)

    Frames are inline JPEG data URIs (every segment boundary, then evenly spaced), so the HTML
    shows in an nbconvert report or an untrusted notebook with no kernel and no scripts.
    """
    rollout = (
        source
        if isinstance(source, Rollout)
        else prepare_rollout(
            source,
            cameras=None if camera is None else [camera],
            verdicts=verdicts,
            fmt=fmt,
            quality=quality,
            progress=False,
        )
    )
    return rollout_markup(rollout, camera, max_frames=max_frames, width=width)


class RolloutViewer(TwinWidget):
    """Plays an episode's frames in the browser; see the module docstring.

    >>> viewer = RolloutViewer((run_dir, 3)); viewer      # the run's judge's verdicts shown
    >>> viewer.camera = "front_left"; viewer.seek(100); viewer.playing = True
    >>> viewer.set_verdicts(episode_verdicts(events, 3, len(viewer.segments)))  # judged since
    """

    _esm = asset_path("rollout_viewer.js")
    _css = asset_path("rollout_viewer.css")

    episode_id = t.Int(None, allow_none=True).tag(sync=True)
    round = t.Int(0).tag(sync=True)
    task = t.Unicode("").tag(sync=True)
    steps = t.Int(0).tag(sync=True)
    """Actions in the episode; states are 0..steps."""
    cameras = t.List(t.Unicode()).tag(sync=True)
    camera = t.Unicode("").tag(sync=True)
    mime = t.Unicode("image/jpeg").tag(sync=True)
    frames = t.Dict(value_trait=t.List(t.Bytes()), key_trait=t.Unicode()).tag(sync=True)
    """Encoded frames per camera; sent once, as binary buffers."""
    frame_steps = t.List(t.Int()).tag(sync=True)
    index = t.Int(0).tag(sync=True)
    """The frame shown, 0..len(frame_steps) - 1."""
    playing = t.Bool(False).tag(sync=True)
    fps = t.Float(4.0).tag(sync=True)
    """Frames per second at speed 1 (4 is real time for 20 Hz control, a frame every 5 steps)."""
    speed = t.Float(1.0).tag(sync=True)
    width = t.Int(480).tag(sync=True)
    """Displayed width of the frame in CSS pixels (twice the default view size's 240)."""
    segments: t.List[SegmentState] = t.List(t.Dict()).tag(sync=True)  # type: ignore[assignment]

    def __init__(
        self,
        source: EpisodeSource | Rollout,
        *,
        camera: str | None = None,
        cameras: Sequence[str] | None = None,
        verdicts: Sequence[object] | None = None,
        fps: float = 4.0,
        speed: float = 1.0,
        width: int = 480,
        fmt: ImageFormat = "jpeg",
        quality: int = 85,
        progress: bool = True,
        **kwargs: Any,
    ) -> None:
        rollout = (
            source
            if isinstance(source, Rollout)
            else prepare_rollout(
                source,
                cameras=cameras,
                verdicts=verdicts,
                fmt=fmt,
                quality=quality,
                progress=progress,
            )
        )
        super().__init__(
            episode_id=rollout.episode_id,
            round=rollout.round,
            task=rollout.task,
            steps=rollout.steps,
            cameras=rollout.cameras,
            camera=rollout.check_camera(camera or rollout.cameras[0]),
            mime=rollout.mime,
            frames=rollout.frames,
            frame_steps=rollout.frame_steps,
            segments=[s.to_state() for s in rollout.segments],
            fps=fps,
            speed=speed,
            width=width,
            **kwargs,
        )

    @t.validate("camera")
    def _valid_camera(self, proposal: t.Bunch) -> str:
        camera = str(proposal["value"])
        if camera not in self.cameras:
            raise UnknownCameraError(
                f"episode {self.episode_id} has no {camera!r} frames; it has {self.cameras}"
            )
        return camera

    @t.validate("index")
    def _valid_index(self, proposal: t.Bunch) -> int:
        index = int(proposal["value"])
        if not 0 <= index < max(len(self.frame_steps), 1):
            raise t.TraitError(f"frame index {index} outside 0..{len(self.frame_steps) - 1}")
        return index

    @t.validate("fps", "speed")
    def _positive(self, proposal: t.Bunch) -> float:
        value = float(proposal["value"])
        if not value > 0:
            raise t.TraitError(f"{proposal['trait'].name} must be > 0, got {value}")
        return value

    @property
    def step(self) -> int:
        """The state index of the frame shown."""
        return int(self.frame_steps[self.index])

    def seek(self, step: int) -> None:
        """Show the last frame at or before state `step`."""
        if not 0 <= step <= self.steps:
            raise ValueError(f"step {step} outside 0..{self.steps}")
        self.index = int(np.searchsorted(self.frame_steps, step, side="right")) - 1

    def rollout(self) -> Rollout:
        """What the widget shows, as a Rollout (for `rollout_markup`)."""
        return Rollout(
            episode_id=self.episode_id,
            round=self.round,
            task=self.task,
            steps=self.steps,
            mime=self.mime,
            frames={k: list(v) for k, v in self.frames.items()},
            frame_steps=list(self.frame_steps),
            segments=[RolloutSegment.from_state(s) for s in self.segments],
        )

    def set_verdicts(self, verdicts: Sequence[object] | None) -> None:
        """Show the judge's verdicts (one per segment, None where unjudged) in the timeline."""
        current = self.rollout().segments
        self.segments = [
            replace(seg, judgement=j).to_state()
            for seg, j in zip(current, judgements(verdicts, len(current)), strict=True)
        ]

    def to_html(self, max_frames: int = 12) -> str:
        """The static twin of what is shown now (the current camera)."""
        return rollout_markup(self.rollout(), self.camera, max_frames=max_frames)


def show_rollout(
    source: EpisodeStore | Path | str | EpisodeSource,
    episode_id: int | None = None,
    *,
    static: bool = False,
    **kwargs: Any,
) -> None:
    """Display an episode: the live RolloutViewer, or its static HTML with `static=True`.

    >>> show_rollout(run_dir, 3)                        # a RolloutViewer
    >>> show_rollout(episode, static=True, camera="front_left")  # a filmstrip for a report
    """
    from IPython.display import HTML, display

    if episode_id is not None:
        if isinstance(source, (Episode, tuple)):
            raise TypeError("give either an episode or (store or run dir, episode id)")
        source = (source, episode_id)
    if isinstance(source, (EpisodeStore, Path, str)):
        raise TypeError("give the episode id with a store or run directory")
    shown = HTML(rollout_html(source, **kwargs)) if static else RolloutViewer(source, **kwargs)  # type: ignore[no-untyped-call]
    display(shown)  # type: ignore[no-untyped-call]
