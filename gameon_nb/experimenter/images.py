"""Images for the VLM: frames as PNG bytes and a learning curve drawn as a plot, with Pillow.

    >>> png = to_png(frame)                                     # (H, W, 3) uint8 -> PNG bytes
    >>> png = curve_png(curve, threshold=0.8, title="stack the red block on the blue block")

PNG is lossless and its bytes are a stable function of the pixels, so an image's hash can key the
cache and the replay log.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from gameon_nb.experimenter.contexts import CurvePoint, Image

__all__ = ["curve_png", "from_png", "to_png"]

PLOT_SIZE = (360, 240)
"""(width, height) of a learning-curve plot."""


def to_png(image: Image) -> bytes:
    """An (H, W, 3) uint8 RGB array as PNG bytes."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {array.dtype} {array.shape}")
    buffer = io.BytesIO()
    PILImage.fromarray(array, "RGB").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def from_png(data: bytes) -> Image:
    """PNG bytes back to an (H, W, 3) uint8 array."""
    with PILImage.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def curve_png(curve: Sequence[CurvePoint], threshold: float, title: str = "") -> bytes:
    """A plot of success rate by round: points joined by a line, the threshold dashed."""
    width, height = PLOT_SIZE
    left, right, top, bottom = 44, 18, 26, 30
    image = PILImage.new("RGB", PLOT_SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    rounds = [float(p["round"]) for p in curve] or [0.0]
    r_lo, r_hi = min(rounds), max(rounds)
    if r_hi - r_lo < 1:
        r_lo, r_hi = r_lo - 0.5, r_hi + 0.5

    def xy(r: float, rate: float) -> tuple[float, float]:
        x = left + (r - r_lo) / (r_hi - r_lo) * (width - left - right)
        return x, top + (1.0 - rate) * (height - top - bottom)

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):  # grid and y labels
        _, y = xy(r_lo, tick)
        draw.line([(left, y), (width - right, y)], fill=(225, 225, 225))
        draw.text((6, y - 6), f"{tick:.2f}", fill="black", font=font)
    draw.line([(left, top), (left, height - bottom), (width - right, height - bottom)], "black")
    _, y_t = xy(r_lo, threshold)
    for x in range(left, width - right, 8):  # threshold, dashed
        draw.line([(x, y_t), (min(x + 4, width - right), y_t)], fill=(200, 60, 60), width=2)
    for r in sorted(set(rounds)):
        x_r, _ = xy(r, 0.0)
        draw.text((x_r - 3, height - bottom + 4), f"{r:g}", fill="black", font=font)
    points = [xy(float(p["round"]), float(p["rate"])) for p in curve]
    if len(points) > 1:
        draw.line(points, fill=(40, 90, 200), width=2)
    for x_p, y_p in points:
        draw.ellipse([(x_p - 3, y_p - 3), (x_p + 3, y_p + 3)], fill=(40, 90, 200))
    draw.text((left, 6), (title or "success rate")[:56], fill="black", font=font)
    draw.text(((left + width - right) // 2 - 12, height - 13), "round", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
