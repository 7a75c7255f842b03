"""Screenshots of notebooks 00-02 run in JupyterLab (headless Chromium) on the tiny preset.

    .venv/bin/python scripts/notebook_screenshots.py            # -> docs/screenshots/*.jpg

Each notebook gets the tiny preset's parameters (papermill's injected cell, as `gameon batch`
does), runs every cell in a real JupyterLab, and the widget its readers come for is captured in
the browser window: 00's stage outputs, 01's rollout viewer, 02's stepper after a round. The
README shows them; rerun this after a change to what the notebooks show.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.harness import jupyter_lab  # noqa: E402  (the repository's test harness)

SHOTS = {
    # notebook: (its parameters, the element to show, screenshot name)
    "00_quickstart": ({"preset": "tiny", "rounds": 1}, ".gameon-stepper", "00_quickstart"),
    "01_domain_tour": ({}, ".gameon-rollout.gameon-live", "01_domain_tour"),
    "02_step_by_step": (
        {"preset": "tiny", "rounds": 1, "steps": 10},
        ".gameon-stepper.gameon-live",
        "02_step_by_step",
    ),
}


def main() -> None:
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lab"
        root.mkdir()
        with jupyter_lab(root, artifacts=Path(tmp) / "artifacts") as lab:
            for name, (parameters, selector, shot) in SHOTS.items():
                node = load_notebook_node(str(REPO / "notebooks" / f"{name}.ipynb"))
                runs = {"run_dir": str(root / "runs" / name)} if "preset" in parameters else {}
                node = parameterize_notebook(node, parameters | runs)
                nbformat.write(node, root / f"{name}.ipynb")
                page = lab.open(f"{name}.ipynb", timeout=900)
                lab.run_all(page)
                target = page.locator(selector).first
                target.scroll_into_view_if_needed()
                target.evaluate("e => e.scrollIntoView({block: 'start'})")  # its top at the top
                page.wait_for_timeout(1500)  # frames decode, plots lay out
                path = args.out / f"{shot}.jpg"
                page.screenshot(path=str(path), type="jpeg", quality=80)
                print(f"{path.relative_to(REPO)}: {path.stat().st_size // 1024} KB")
                page.context.close()


if __name__ == "__main__":
    main()
