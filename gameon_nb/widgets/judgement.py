"""A judge's verdict on one skill execution: `JudgementCard` and its twin `judgement_html`.

    >>> JudgementCard("lift the red block", frames, verdict, ground_truth=True)
    >>> judgement_html("lift the red block", frames, True, False, "the block is on the table")
    >>> show_judgement("lift the red block", frames, verdict, ground_truth=True, static=True)

Shows the frames the judge saw, its verdict and reasoning, the ground truth and a badge saying
whether they agree. `verdict` is a bool, None, or any object with `success`, `reasoning`,
`backend`, `fallback` and `calls` (the experimenter's Verdict); explicit arguments win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import traitlets as t

from gameon_nb.widgets.assets import asset_path
from gameon_nb.widgets.base import TwinWidget
from gameon_nb.widgets.encoding import (
    MIME,
    ImageFormat,
    data_uri,
    decode_image,
    encode_frames,
)
from gameon_nb.widgets.markup import (
    AGREEMENT_COLOUR,
    BOX,
    chip,
    escape,
    outcome_colour,
    outcome_text,
)
from gameon_nb.widgets.verdicts import (
    Agreement,
    Judgement,
    agreement,
    as_judgement,
    fallback_text,
)

__all__ = [
    "BADGE_TEXT",
    "JudgementCard",
    "JudgementView",
    "judgement_html",
    "prepare_judgement",
    "show_judgement",
]

Frames = npt.ArrayLike | Sequence[npt.ArrayLike] | Sequence[bytes]
"""A (K, H, W, 3) uint8 stack, a list of (H, W, 3) frames, or a list of encoded images."""

BADGE_TEXT: dict[Agreement, str] = {
    "agree": "✓ judge agrees with ground truth",
    "disagree": "✗ judge disagrees with ground truth",
    "unjudged": "no verdict",
    "no ground truth": "no ground truth",
}


@dataclass(frozen=True)
class JudgementView:
    """A judgement ready to show: encoded frames, verdict, ground truth."""

    skill: str
    frames: list[bytes]
    mime: str
    labels: list[str]
    judgement: Judgement
    ground_truth: bool | None

    @property
    def agreement(self) -> Agreement:
        return agreement(self.judgement.success, self.ground_truth)


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return None


def encode_any(
    frames: Frames, fmt: ImageFormat, quality: int, progress: bool
) -> tuple[list[bytes], str]:
    """Frames as (encoded images, mime): PNG or JPEG bytes pass through, others are encoded."""
    if isinstance(frames, (list, tuple)) and not frames:
        return [], MIME[fmt]
    if isinstance(frames, (list, tuple)) and isinstance(frames[0], (bytes, bytearray)):
        images = [bytes(f) for f in frames]
        mimes = {_sniff(f) for f in images}
        if len(mimes) == 1 and None not in mimes:
            return images, str(mimes.pop())
        arrays: Any = [decode_image(f) for f in images]
    elif isinstance(frames, (list, tuple)):
        arrays = list(frames)
    else:
        arrays = np.asarray(frames)
        if arrays.ndim == 3:
            arrays = arrays[None]
        if len(arrays) == 0:
            return [], MIME[fmt]
    return encode_frames(arrays, fmt, quality, progress=progress, desc="judged frames"), MIME[fmt]


def prepare_judgement(
    skill: str,
    frames: Frames,
    verdict: object = None,
    ground_truth: bool | None = None,
    reasoning: str | None = None,
    backend: str | None = None,
    *,
    fallback: str | bool | None = None,
    calls: int | None = None,
    labels: Sequence[str] | None = None,
    fmt: ImageFormat = "jpeg",
    quality: int = 85,
    progress: bool = True,
) -> JudgementView:
    """Gather what a JudgementCard shows; explicit arguments override the verdict's fields."""
    judgement = as_judgement(verdict)
    judgement = replace(
        judgement,
        reasoning=judgement.reasoning if reasoning is None else reasoning,
        backend=judgement.backend if backend is None else backend,
        fallback=judgement.fallback if fallback is None else fallback_text(fallback),
        calls=judgement.calls if calls is None else calls,
    )
    if ground_truth is not None and not isinstance(ground_truth, (bool, np.bool_)):
        raise TypeError(f"ground_truth must be a bool or None, got {ground_truth!r}")
    images, mime = encode_any(frames, fmt, quality, progress)
    names = list(labels) if labels is not None else [f"frame {i + 1}" for i in range(len(images))]
    if len(names) != len(images):
        raise ValueError(f"{len(names)} labels for {len(images)} frames")
    return JudgementView(
        skill=skill,
        frames=images,
        mime=mime,
        labels=names,
        judgement=judgement,
        ground_truth=None if ground_truth is None else bool(ground_truth),
    )


THUMB = 240
"""Width of each frame in CSS pixels: the default view size's, so a view frame shows 1:1."""


def judgement_markup(view: JudgementView, *, thumb: int = THUMB) -> str:
    """The static HTML of a prepared judgement (see `judgement_html`)."""
    j = view.judgement
    badge = chip(
        BADGE_TEXT[view.agreement],
        AGREEMENT_COLOUR[view.agreement],
        "gameon-badge",
        agreement=view.agreement,
    )
    frames = "".join(
        f'<figure class="gameon-frame" style="margin:0 4px 4px 0;text-align:center">'
        f'<img src="{data_uri(image, view.mime)}" alt="{escape(label)}" '
        f'style="width:{thumb}px;height:auto;display:block">'
        f'<figcaption style="font-size:11px;color:#666">{escape(label)}</figcaption></figure>'
        for image, label in zip(view.frames, view.labels, strict=True)
    )
    meta = [f"backend {escape(j.backend)}" if j.backend else ""]
    meta += [f"{j.calls} call{'s' if j.calls != 1 else ''}" if j.calls is not None else ""]
    meta += [escape(j.fallback)]
    reasoning = (
        f'<blockquote class="gameon-reasoning" style="margin:4px 0;padding:2px 8px;'
        f'border-left:3px solid #ccc;color:#444;white-space:pre-wrap">{escape(j.reasoning)}'
        "</blockquote>"
        if j.reasoning
        else ""
    )
    verdict = chip(outcome_text(j.success), outcome_colour(j.success), "gameon-verdict")
    truth = chip(outcome_text(view.ground_truth), outcome_colour(view.ground_truth), "gameon-truth")
    return (
        f'<div class="gameon-judgement gameon-static" data-agreement="{view.agreement}" '
        f'style="{BOX};border:1px solid #ddd;border-radius:6px;padding:8px;max-width:720px">'
        f'<div style="margin-bottom:6px"><b class="gameon-skill">{escape(view.skill)}</b> '
        f"{badge}</div>"
        f'<div class="gameon-frames" style="display:flex;flex-wrap:wrap">'
        f"{frames or '<i>no frames</i>'}</div>"
        f"<div>judge: {verdict} · ground truth: {truth}</div>{reasoning}"
        f'<div class="gameon-meta" style="font-size:11px;color:#666">'
        f"{' · '.join(m for m in meta if m)}</div></div>"
    )


def judgement_html(
    skill: str,
    frames: Frames,
    verdict: object = None,
    ground_truth: bool | None = None,
    reasoning: str | None = None,
    backend: str | None = None,
    **kwargs: Any,
) -> str:
    """Static HTML of a judgement: frames inline, verdict, ground truth, reasoning, badge.

    >>> judgement_html("lift the red block", frames, verdict, ground_truth=True)
    >>> judgement_html("grasp the blue block", [png_bytes], False, True, "fingers are empty")

    Takes the arguments of JudgementCard (fallback, calls, labels, fmt, quality too).
    """
    kwargs.setdefault("progress", False)
    return judgement_markup(
        prepare_judgement(skill, frames, verdict, ground_truth, reasoning, backend, **kwargs)
    )


class JudgementCard(TwinWidget):
    """The judge's view of one skill execution; see the module docstring.

    >>> card = JudgementCard("lift the red block", frames, verdict, ground_truth=True); card
    >>> card.agreement                      # 'agree' / 'disagree' / 'unjudged' / ...
    """

    _esm = asset_path("judgement_card.js")
    _css = asset_path("judgement_card.css")

    skill = t.Unicode("").tag(sync=True)
    frames = t.List(t.Bytes()).tag(sync=True)
    """The frames the judge saw, encoded; sent as binary buffers."""
    mime = t.Unicode("image/jpeg").tag(sync=True)
    labels = t.List(t.Unicode()).tag(sync=True)
    verdict = t.Bool(None, allow_none=True).tag(sync=True)
    ground_truth = t.Bool(None, allow_none=True).tag(sync=True)
    reasoning = t.Unicode("").tag(sync=True)
    backend = t.Unicode("").tag(sync=True)
    fallback = t.Unicode("").tag(sync=True)
    calls = t.Int(None, allow_none=True).tag(sync=True)
    agreement = t.Unicode("unjudged").tag(sync=True)
    """Derived from verdict and ground_truth; kept in step by the widget."""
    thumb = t.Int(THUMB).tag(sync=True)
    """Width of each frame in CSS pixels; a click enlarges one."""

    def __init__(
        self,
        skill: str,
        frames: Frames,
        verdict: object = None,
        ground_truth: bool | None = None,
        reasoning: str | None = None,
        backend: str | None = None,
        *,
        fallback: str | bool | None = None,
        calls: int | None = None,
        labels: Sequence[str] | None = None,
        fmt: ImageFormat = "jpeg",
        quality: int = 85,
        progress: bool = True,
        thumb: int = THUMB,
        **kwargs: Any,
    ) -> None:
        view = prepare_judgement(
            skill,
            frames,
            verdict,
            ground_truth,
            reasoning,
            backend,
            fallback=fallback,
            calls=calls,
            labels=labels,
            fmt=fmt,
            quality=quality,
            progress=progress,
        )
        super().__init__(
            skill=view.skill,
            frames=view.frames,
            mime=view.mime,
            labels=view.labels,
            verdict=view.judgement.success,
            ground_truth=view.ground_truth,
            reasoning=view.judgement.reasoning,
            backend=view.judgement.backend,
            fallback=view.judgement.fallback,
            calls=view.judgement.calls,
            agreement=view.agreement,
            thumb=thumb,
            **kwargs,
        )

    @t.observe("verdict", "ground_truth")
    def _agreement(self, change: t.Bunch) -> None:
        self.agreement = agreement(self.verdict, self.ground_truth)

    def view(self) -> JudgementView:
        """What the card shows now, as a JudgementView."""
        return JudgementView(
            skill=self.skill,
            frames=list(self.frames),
            mime=self.mime,
            labels=list(self.labels),
            judgement=Judgement(
                self.verdict, self.reasoning, self.backend, self.fallback, self.calls
            ),
            ground_truth=self.ground_truth,
        )

    def to_html(self) -> str:
        return judgement_markup(self.view(), thumb=self.thumb)


def show_judgement(
    skill: str,
    frames: Frames,
    verdict: object = None,
    ground_truth: bool | None = None,
    *,
    static: bool = False,
    **kwargs: Any,
) -> None:
    """Display a JudgementCard, or its static HTML with `static=True`.

    >>> show_judgement("lift the red block", frames, verdict, ground_truth=True)
    >>> show_judgement("lift the red block", frames, False, True, static=True)
    """
    from IPython.display import HTML, display

    shown = (
        HTML(judgement_html(skill, frames, verdict, ground_truth, **kwargs))  # type: ignore[no-untyped-call]
        if static
        else JudgementCard(skill, frames, verdict, ground_truth, **kwargs)
    )
    display(shown)  # type: ignore[no-untyped-call]
