"""Headless OpenGL for MuJoCo: pick EGL, else OSMesa, before `mujoco` is first imported.

    >>> from gameon_nb.sim import gl
    >>> gl.select_backend()        # sets MUJOCO_GL only where the user has not
    'egl'

MuJoCo reads MUJOCO_GL once, when it is imported, so the sim package calls this before its first
`import mujoco`; this is the one environment variable the package ever sets, and only when unset.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

__all__ = ["RenderingUnavailableError", "install_hint", "select_backend"]

_LIBRARIES = {"egl": "EGL", "osmesa": "OSMesa"}


class RenderingUnavailableError(RuntimeError):
    """No headless OpenGL backend works on this machine."""


def install_hint() -> str:
    """What to install and set when rendering fails."""
    return (
        "Headless rendering needs EGL or OSMesa. On Debian/Ubuntu: `apt-get install libegl1 "
        "libgl1-mesa-dri` and set MUJOCO_GL=egl, or `apt-get install libosmesa6` and set "
        "MUJOCO_GL=osmesa (slower), before Python starts. Use pixels=False for state-only runs."
    )


def select_backend() -> str:
    """Return the MUJOCO_GL backend in force, choosing EGL then OSMesa when none is set."""
    chosen = os.environ.get("MUJOCO_GL", "")
    if chosen or "mujoco" in sys.modules:
        return chosen
    for backend, library in _LIBRARIES.items():
        if ctypes.util.find_library(library):
            os.environ["MUJOCO_GL"] = backend
            os.environ.setdefault("PYOPENGL_PLATFORM", backend)
            return backend
    return ""
