"""The project's own promises: pinned set-up, conda file in step, CI runs the README's command."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_lists_the_same_dependencies() -> None:
    project = _pyproject()["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1]
    listed = {
        line.strip()[2:]
        for line in pip_section.splitlines()
        if line.strip().startswith("- ") and not line.strip().startswith("- -e")
    }
    assert listed == wanted


def test_extras_exist() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"gemini", "openai", "ray", "browser", "dev"} <= set(extras)
    assert any(r.startswith("google-genai") for r in extras["gemini"])


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(bash scripts/setup\.sh && .+)$", readme, flags=re.M)
    assert len(commands) == 2, commands
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_setup_installs_the_cpu_torch_first() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    torch_line = setup.index("torch==2.13.0")
    assert torch_line < setup.index("pip install -q -e")
