"""Frames as compressed images: what the widgets send to the browser and inline in static HTML.

    >>> images = encode_frames(episode.frames["experimenter"])   # list of JPEG bytes
    >>> data_uri(images[0], "image/jpeg")                         # 'data:image/jpeg;base64,...'

One image per frame (not a video) so that scrubbing shows exactly the frame asked for: browsers
seek videos to keyframes, and frames here are small (64x64 to 240x180, a few kB each as JPEG).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from gameon_nb.progress import progress_bar

__all__ = ["MIME", "ImageFormat", "data_uri", "decode_image", "encode_frames", "encode_image"]

ImageFormat = Literal["jpeg", "png"]
MIME: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png"}


def encode_image(frame: npt.ArrayLike, fmt: ImageFormat = "jpeg", quality: int = 85) -> bytes:
    """One (H, W, 3) or (H, W) uint8 frame as JPEG or PNG bytes."""
    array = np.asarray(frame)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"a frame must be (H, W[, 3]) uint8, got {array.shape} {array.dtype}")
    if fmt not in MIME:
        raise ValueError(f"unknown image format {fmt!r}; known: {sorted(MIME)}")
    buffer = io.BytesIO()
    if fmt == "jpeg":
        Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    else:
        Image.fromarray(array).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def encode_frames(
    frames: npt.ArrayLike | Sequence[npt.ArrayLike],
    fmt: ImageFormat = "jpeg",
    quality: int = 85,
    *,
    progress: bool = True,
    desc: str = "encoding frames",
) -> list[bytes]:
    """Each frame of a (K, H, W, 3) stack as image bytes; a progress bar if it takes > 1 s."""
    stack = list(frames) if isinstance(frames, Sequence) else list(np.asarray(frames))
    return [
        encode_image(frame, fmt, quality)
        for frame in progress_bar(stack, desc=desc, unit="frame", disable=not progress, delay=1.0)
    ]


def decode_image(data: bytes) -> npt.NDArray[np.uint8]:
    """Image bytes (any format Pillow reads) back to an (H, W, 3) uint8 array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def data_uri(data: bytes, mime: str) -> str:
    """`data:` URI of some bytes, for an <img src> that needs no server."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
