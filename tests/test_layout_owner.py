"""`RunDir` is the one owner of a run directory's layout: no other module joins its paths."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gameon_nb"
OWNER = PACKAGE / "run"
ENTRIES = (
    r"config\.json|state\.json|events\.jsonl|calls\.jsonl|vlm_cache|library\.json|episodes|"
    r"checkpoints|evaluations|images|report|tb|\.lock|batch\.json|judge_eval|compare[-.\w]*"
)
BY_HAND = [
    re.compile(rf"/\s*f?[\"'](?:{ENTRIES})[\"'/]"),  # ... / "episodes", / f"compare.json"
    re.compile(r"\b(?:run_dir|run\.root|rundir\.root|args\.run_dir)\)?\s*/(?!/)"),  # run_dir / x
]


def joins_by_hand(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if any(p.search(line) for p in BY_HAND)
    ]


def test_no_module_outside_the_run_layer_joins_a_run_directory_path() -> None:
    found = {
        str(path.relative_to(PACKAGE)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if OWNER not in path.parents and (hits := joins_by_hand(path.read_text()))
    }
    assert found == {}, "use RunDir's paths instead:\n" + "\n".join(
        f"{name}:{n}: {line}" for name, hits in found.items() for n, line in hits
    )


def test_the_check_sees_a_join_by_hand() -> None:
    assert joins_by_hand('store = EpisodeStore(Path(run_dir) / "episodes")')
    assert joins_by_hand("path = exp.rundir.root / name")
    assert joins_by_hand('out = root / "compare.json"')
    assert not joins_by_hand("store = RunDir(run_dir).store()")
    assert not joins_by_hand('path = self.root / f"ep-{i:07d}.npz"')  # the store's own files


TOP = {"widgets", "report", "cli", "batch", "notebook", "bench", "known_parameters"}
"""The entry points and the notebook layer: nothing below them imports them."""
NEVER = {
    "config": TOP | {"sim", "skills", "data", "learner", "experimenter", "run", "loop"},
    "sim": TOP | {"skills", "data", "learner", "experimenter", "run", "loop"},
    "skills": TOP | {"data", "learner", "experimenter", "run", "loop"},
    "data": TOP | {"learner", "experimenter", "loop"},
    "learner": TOP | {"experimenter", "loop", "run"},
    "experimenter": TOP | {"learner", "loop", "run"},
    "run": TOP | {"learner", "loop"},
    "loop": TOP,
}


def _imports(path: Path) -> set[str]:
    """The sub-packages and modules of gameon_nb that a source file imports from."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gameon_nb."):
            names.add(node.module.split(".")[1])  # type: ignore[union-attr]
    return names


def test_nothing_imports_upward() -> None:
    upward = {
        f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"
        for path in PACKAGE.rglob("*.py")
        if (layer := path.relative_to(PACKAGE).parts[0].removesuffix(".py")) in NEVER
        and (bad := _imports(path) & NEVER[layer])
    }
    assert upward == set()
