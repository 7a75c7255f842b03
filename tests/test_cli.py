"""The `gameon` command end to end: check-env with the issue's targets, bench sim, snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gameon_nb.sim.check import TARGETS

BENCH_KEYS = {
    "mj_step_per_s",
    "env_steps_per_s",
    "substeps",
    "overhead_ratio",
    "render_fps_env",
    "render_fps_raw",
    "render_ratio",
}


def gameon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameon_nb.cli", *args], capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_check_env_meets_every_target() -> None:
    out = gameon("check-env", "--json", "--resets", "100")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert report["check_env"] == "pass"
    assert report["check_env_detail"] == {"state": "pass", "pixels": "pass"}
    assert set(report["templates"]) == set(TARGETS)
    for name, result in report["templates"].items():
        assert result["episodes"] == 100
        assert result["success"] >= TARGETS[name], (name, result)
        assert len(result["by_colour"]) >= 1


def test_check_env_small_run_reports_per_colour() -> None:
    out = gameon("check-env", "--json", "--resets", "6", "--no-pixels")
    report = json.loads(out.stdout)
    assert report["check_env"] == "pass"
    assert report["templates"]["stack"]["by_colour"].keys() == {
        "red/green",
        "red/blue",
        "green/red",
        "green/blue",
        "blue/red",
        "blue/green",
    }


def test_check_env_fails_when_rendering_fails_unless_pixels_were_not_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gameon_nb.sim import check, render

    def no_gl(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no GL here")

    monkeypatch.setattr(render.mujoco, "Renderer", no_gl)
    detail = check.check_gymnasium(pixels=True)
    assert detail["state"].startswith("fail: MuJoCo could not create a headless GL context")
    assert "--no-pixels" in detail["pixels"]
    monkeypatch.setattr(check, "TEMPLATES", {})  # the controllers are not what is tested here
    assert check.check_domain(resets=1, progress=False)["pass"] is False
    assert check.check_gymnasium(pixels=False) == {"state": "pass"}  # nothing rendered
    assert check.check_domain(resets=1, pixels=False, progress=False)["pass"] is True


def test_bench_sim_reports_side_by_side() -> None:
    out = gameon("bench", "sim", "--json", "--seconds", "0.6")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report) >= BENCH_KEYS
    assert report["substeps"] == 25
    assert all(report[k] > 0 for k in BENCH_KEYS)
    assert report["overhead_ratio"] == pytest.approx(
        report["mj_step_per_s"] / (25 * report["env_steps_per_s"]), rel=1e-3
    )


def test_snapshot_writes_a_picture(tmp_path: Path) -> None:
    import mediapy

    path = tmp_path / "scene.png"
    out = gameon("snapshot", "--out", str(path), "--height", "60", "--width", "80")
    assert out.returncode == 0, out.stderr
    assert mediapy.read_image(path).shape == (60, 80, 3)


def test_unknown_command_is_an_error() -> None:
    out = gameon("bench", "warp-drive")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
