"""Where the widgets' front-end files (ESM and CSS) are: packaged, or in the source checkout.

    >>> from gameon_nb.widgets.assets import asset_path
    >>> asset_path("rollout_viewer.js")        # .../gameon_nb/_widgets/rollout_viewer.js

A wheel carries the top-level `widgets/` folder as `gameon_nb/_widgets` (pyproject's
force-include); an editable checkout has no such folder, so the repository's `widgets/` is used.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["asset_dir", "asset_path"]

_PACKAGE = Path(__file__).resolve().parents[1]


def asset_dir() -> Path:
    """The folder of the front-end files: `gameon_nb/_widgets`, else the checkout's `widgets/`."""
    candidates = [_PACKAGE / "_widgets", _PACKAGE.parent / "widgets"]
    for folder in candidates:
        if (folder / "rollout_viewer.js").is_file():
            return folder
    raise FileNotFoundError(
        "the widgets' front-end files are missing; looked in "
        + " and ".join(str(c) for c in candidates)
        + " (reinstall gameon_nb, or run from a full checkout)"
    )


def asset_path(name: str) -> Path:
    """One front-end file by name; a missing name lists the files there are."""
    folder = asset_dir()
    path = folder / name
    if not path.is_file():
        known = sorted(p.name for p in folder.iterdir() if p.suffix in {".js", ".css"})
        raise FileNotFoundError(f"no widget asset {name!r} in {folder}; there are {known}")
    return path
