"""Front-end assets: found packaged or in the checkout, valid ESM, and SVG helpers' output."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from gameon_nb.widgets import assets
from gameon_nb.widgets.svg import line_chart_svg, nice_ticks, reward_lanes_svg, sparkline_svg

REPO = Path(__file__).resolve().parents[1]
FRONT_ENDS = sorted((REPO / "widgets").glob("*.js"))


def test_assets_come_from_the_checkout_when_not_packaged() -> None:
    assert assets.asset_dir() == REPO / "widgets"
    assert assets.asset_path("rollout_viewer.js").is_file()
    with pytest.raises(FileNotFoundError, match=r"rollout_viewer\.css"):
        assets.asset_path("no_such.js")


def test_packaged_assets_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "gameon_nb"
    shutil.copytree(REPO / "widgets", package / "_widgets")
    monkeypatch.setattr(assets, "_PACKAGE", package)
    assert assets.asset_dir() == package / "_widgets"
    monkeypatch.setattr(assets, "_PACKAGE", tmp_path / "elsewhere" / "gameon_nb")
    with pytest.raises(FileNotFoundError, match="_widgets"):
        assets.asset_dir()


@pytest.mark.slow
def test_the_wheel_packs_the_front_ends(tmp_path: Path) -> None:
    # a real wheel, built by the project's build backend (hatchling, from the dev extra)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True, timeout=600,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("gameon_nb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for source in sorted((REPO / "widgets").iterdir()):
        if source.suffix in (".js", ".css"):
            assert f"gameon_nb/_widgets/{source.name}" in names, source.name
    assert "gameon_nb/experimenter/prompts/propose.txt" in names
    assert "gameon_nb/sim/assets/scene.xml" in names


@pytest.mark.parametrize("path", FRONT_ENDS, ids=lambda p: p.name)
def test_front_ends_are_plain_esm(path: Path, tmp_path: Path) -> None:
    source = path.read_text()
    assert "export default { render }" in source
    assert "import " not in source  # no CDN and no bare imports: nothing to resolve
    assert "http://" not in source.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in source
    assert path.with_suffix(".css").is_file()
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the syntax check needs it")
    module = tmp_path / f"{path.stem}.mjs"
    module.write_text(source)
    result = subprocess.run([node, "--check", str(module)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_nice_ticks() -> None:
    assert nice_ticks(0, 1) == [0, 0.25, 0.5, 0.75, 1]
    assert nice_ticks(0, 1000, 6) == [0, 200, 400, 600, 800, 1000]
    assert nice_ticks(-0.05, 1.05) == [0, 0.5, 1]  # a raw step of 0.275 rounds up to 0.5
    assert nice_ticks(3, 3) == [3]


def test_svgs_are_well_formed() -> None:
    svg = "{http://www.w3.org/2000/svg}"
    chart = ElementTree.fromstring(line_chart_svg({"a<b": [(0, 1), (1, 2)], "c": []}, title="t"))
    assert len(chart.findall(f"{svg}polyline")) == 2
    assert "a<b" in [t.text for t in chart.iter(f"{svg}text")]
    spark = ElementTree.fromstring(sparkline_svg([0.1]))
    assert spark.find(f"{svg}circle") is not None
    lanes = ElementTree.fromstring(reward_lanes_svg([("x", [0, 1, 1], (1, 3))], 3))
    assert len(lanes.findall(f"{svg}polyline")) == 1


def test_series_past_the_palette_get_their_own_line_style() -> None:
    series = {f"skill {i}": [(0.0, 0.5), (1.0, 0.6)] for i in range(21)}
    chart = ElementTree.fromstring(line_chart_svg(series))
    lines = chart.findall("{http://www.w3.org/2000/svg}polyline")
    style = [(line.get("stroke"), line.get("stroke-dasharray")) for line in lines]
    assert len(set(style)) == 21, "two series drawn alike"
    assert style[0] == ("#1f77b4", None)
    assert style[10] == ("#1f77b4", "5 3")


def _selectors(css: str) -> list[str]:
    """Every selector of a stylesheet's rules (keyframe steps and comments left out)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@keyframes[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    return [s.strip() for head in re.findall(r"([^{}]+)\{", css) for s in head.split(",")]


@pytest.mark.parametrize("sheet", sorted((REPO / "widgets").glob("*.css")), ids=lambda p: p.name)
def test_every_rule_of_a_live_widget_is_scoped_to_its_own_root(sheet: Path) -> None:
    # a live viewer's rule for a bare .gameon-segment once covered every static twin on the page
    selectors = _selectors(sheet.read_text())
    root = selectors[0]
    assert re.fullmatch(r"\.gameon-[a-z]+\.gameon-live", root), root
    assert [s for s in selectors if not s.startswith(root)] == []


def test_the_scope_check_sees_an_unscoped_rule() -> None:
    css = ".gameon-rollout.gameon-live { color: red }\n.gameon-segment { top: 0 }"
    assert _selectors(css) == [".gameon-rollout.gameon-live", ".gameon-segment"]
