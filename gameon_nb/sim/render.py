"""Off-screen frames from named cameras, with shadows and reflections switchable.

    >>> renderer = FrameRenderer(model, height=64, width=64, shadows=False, reflections=False)
    >>> image = renderer.render(data, "front_left")    # (64, 64, 3) uint8
    >>> renderer.close()

A thin layer over `mujoco.Renderer`: one GL context per size, scene flags set once.
"""

from __future__ import annotations

from gameon_nb.sim import gl

gl.select_backend()  # MuJoCo reads MUJOCO_GL on import; see gl.py.

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

__all__ = ["FrameRenderer", "mujoco"]  # mujoco re-exported: imported after the GL choice


class FrameRenderer:
    """Renders uint8 RGB frames of a model at one size."""

    def __init__(
        self, model: mujoco.MjModel, height: int, width: int, *, shadows: bool, reflections: bool
    ) -> None:
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except ValueError:
            raise  # a size larger than the model's offscreen buffer: mujoco's message says so
        except Exception as error:  # GL loaders raise many unrelated types
            raise gl.RenderingUnavailableError(
                f"MuJoCo could not create a headless GL context "
                f"(MUJOCO_GL={gl.select_backend() or 'unset'}): {error}. {gl.install_hint()}"
            ) from error
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = reflections
        self.cameras = {model.camera(i).name for i in range(model.ncam)}

    def render(self, data: mujoco.MjData, camera: str) -> npt.NDArray[np.uint8]:
        """One frame from `camera`."""
        if camera not in self.cameras:
            raise ValueError(f"unknown camera {camera!r}; known: {sorted(self.cameras)}")
        self._renderer.update_scene(data, camera)
        return self._renderer.render()  # type: ignore[no-any-return]

    def close(self) -> None:
        self._renderer.close()
