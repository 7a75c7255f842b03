"""JudgementCard and judgement_html: frames, verdict fields, agreement badge, errors, HTML."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import numpy as np
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from gameon_nb.widgets import JudgementCard, as_judgement, judgement_html
from gameon_nb.widgets.encoding import decode_image
from gameon_nb.widgets.verdicts import agreement

SKILL = "lift the red block"


@dataclass(frozen=True)
class FakeVerdict:
    """Shaped like the experimenter's Verdict (read by attribute only)."""

    success: bool
    reasoning: str
    backend: str
    fallback: bool
    calls: list[str] = field(default_factory=list)


def frames(k: int = 3) -> np.ndarray:
    """Distinct frames: a white square that moves, on grey."""
    out = np.full((k, 40, 60, 3), 90, np.uint8)
    for i in range(k):
        out[i, 10:30, 5 + 15 * i : 20 + 15 * i] = 255
    return out


def png(frame: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def test_card_traits_from_a_verdict_object() -> None:
    verdict = FakeVerdict(False, "the block is still on the table", "gemini", True, ["c1", "c2"])
    card = JudgementCard(SKILL, frames(), verdict, ground_truth=False, progress=False)
    assert len(card.frames) == 3
    assert card.mime == "image/jpeg"
    assert decode_image(card.frames[2]).shape == (40, 60, 3)
    assert (card.verdict, card.ground_truth, card.agreement) == (False, False, "agree")
    assert card.reasoning == "the block is still on the table"
    assert (card.backend, card.calls) == ("gemini", 2)
    assert card.fallback.startswith("fallback")
    assert card.labels == ["frame 1", "frame 2", "frame 3"]
    assert "export default" in card._esm


def test_explicit_arguments_win_and_agreement_follows() -> None:
    verdict = FakeVerdict(True, "lifted", "scripted", False)
    card = JudgementCard(
        SKILL,
        frames(2),
        verdict,
        True,
        "my words",
        "openai",
        labels=["start", "end"],
        progress=False,
    )
    assert (card.reasoning, card.backend, card.fallback, card.calls) == (
        "my words",
        "openai",
        "",
        0,
    )
    assert card.agreement == "agree"
    card.ground_truth = False
    assert card.agreement == "disagree"
    card.verdict = None
    assert card.agreement == "unjudged"
    assert JudgementCard(SKILL, frames(1), True, progress=False).agreement == "no ground truth"


def test_encoded_frames_pass_through() -> None:
    images = [png(f) for f in frames(2)]
    card = JudgementCard(SKILL, images, True, True, progress=False)
    assert card.mime == "image/png"
    assert card.frames == images
    single = JudgementCard(SKILL, frames(1)[0], True, True, progress=False)
    assert len(single.frames) == 1


def test_bad_input_is_refused() -> None:
    with pytest.raises(TypeError, match="'success'"):
        JudgementCard(SKILL, frames(1), object(), progress=False)
    with pytest.raises(TypeError, match="bool or None"):
        JudgementCard(SKILL, frames(1), {"success": "yes"}, progress=False)
    with pytest.raises(ValueError, match="2 labels for 3 frames"):
        JudgementCard(SKILL, frames(3), True, labels=["a", "b"], progress=False)
    with pytest.raises(ValueError, match="uint8"):
        JudgementCard(SKILL, frames(1).astype(np.float32), True, progress=False)
    with pytest.raises(TypeError, match="ground_truth"):
        JudgementCard(SKILL, frames(1), True, ground_truth="yes", progress=False)


def test_as_judgement_and_agreement() -> None:
    assert as_judgement(None).success is None
    assert as_judgement(True).success is True
    j = as_judgement({"success": False, "reasoning": "no", "calls": 3, "fallback": "timeout"})
    assert (j.success, j.reasoning, j.calls, j.fallback) == (False, "no", 3, "fallback: timeout")
    assert agreement(True, True) == "agree"
    assert agreement(False, True) == "disagree"
    assert agreement(None, True) == "unjudged"
    assert agreement(True, None) == "no ground truth"


def test_judgement_html() -> None:
    original = frames(3)
    html = judgement_html(
        SKILL,
        original,
        FakeVerdict(True, "held <high> & dry", "scripted", False, ["c9"]),
        ground_truth=False,
    )
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script")
    images = soup.select(".gameon-frames img")
    assert len(images) == 3
    for img, frame in zip(images, original, strict=True):
        head, _, payload = img["src"].partition(",")
        assert head == "data:image/jpeg;base64"
        decoded = decode_image(base64.b64decode(payload))
        assert np.abs(decoded.astype(int) - frame).mean() < 8
    badge = soup.select_one(".gameon-badge")
    assert badge is not None
    assert badge["data-agreement"] == "disagree"
    assert "disagrees" in badge.get_text()
    assert soup.select_one(".gameon-verdict").get_text() == "success"
    assert soup.select_one(".gameon-truth").get_text() == "failure"
    assert soup.select_one(".gameon-reasoning").get_text() == "held <high> & dry"
    assert "1 call" in soup.select_one(".gameon-meta").get_text()
    assert soup.select_one(".gameon-skill").get_text() == SKILL


def test_card_without_frames_or_verdict() -> None:
    card = JudgementCard(SKILL, [], None, True, progress=False)
    assert card.frames == []
    soup = BeautifulSoup(card.to_html(), "html.parser")
    assert "no frames" in soup.get_text()
    assert soup.select_one(".gameon-badge")["data-agreement"] == "unjudged"
    data, _ = card._repr_mimebundle_()
    assert data["text/html"] == card.to_html()
