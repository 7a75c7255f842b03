"""Curricula compared: the same budget under each curriculum and seed, and what each produced.

    >>> table = compare_curricula("runs/cmp", ["experimenter", "random", "target"], seeds=[0, 1])
    >>> table["rows"][0]      # {"curriculum", "seed", "success/<skill>"..., "distinct_tasks", ...}

Each (curriculum, seed) runs in its own sub-directory (resumed if it exists). Setup (bootstrap
data, pretraining, the first evaluation) reads no curriculum, so it runs once per seed: kept as
setup-seed<N>/ and copied into that seed's other runs. Per run: the final
evaluation of every target, then of every other skill some run's final round evaluated (what
it practised; "-" where a run did not); and the diversity of the data the loop collected:
distinct tasks, the entropy of the executed skill sequences, and which stack pairs occurred in
it (by predicate, whatever was being practised). Written as compare.json, .csv and .md.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from gameon_nb.atomic import atomic_write_text
from gameon_nb.config import RunConfig
from gameon_nb.loop.experiment import Experiment
from gameon_nb.loop.rundir import RunDir
from gameon_nb.sim.templates import TEMPLATES
from gameon_nb.skills.skill import Skill

__all__ = ["compare_curricula", "diversity"]


def diversity(run: RunDir) -> dict[str, Any]:
    """Distinct tasks, skill-sequence entropy (bits) and stack pairs seen in the loop's episodes."""
    store = run.store()
    sequences: Counter[tuple[str, ...]] = Counter()
    tasks: set[str] = set()
    pairs: set[str] = set()
    stacks = [Skill("stack", c) for c in TEMPLATES["stack"].instances()]
    for episode_id in store.ids():
        meta = store.meta(episode_id)
        if meta.get("job") is None:
            continue  # bootstrap data: the same for every curriculum
        sequences[tuple(meta["skills"])] += 1
        tasks.add(meta["task"])
        states = store.load(episode_id, frames=False).states
        pairs |= {"/".join(s.colours) for s in stacks if s.success(states).any()}
    total = sum(sequences.values())
    entropy = sum((n / total * math.log2(total / n) for n in sequences.values()), 0.0)
    return {
        "episodes": total,
        "distinct_tasks": len(tasks),
        "sequence_entropy_bits": round(entropy, 3),
        "stack_pairs": sorted(pairs),
    }


def compare_curricula(
    root: Path | str,
    curricula: list[str],
    seeds: list[int],
    assignments: list[str] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run every (curriculum, seed) with the same overrides; see the module docstring."""
    root = Path(root)
    rows = []
    for curriculum in curricula:
        for seed in seeds:
            run = RunDir(root / f"{curriculum}-seed{seed}")
            setup = root / f"setup-seed{seed}"
            if run.state_path.exists():
                exp = Experiment.resume(run.root, progress=progress)
            else:
                sets = [*(assignments or []), f"loop.curriculum={curriculum}", f"seed={seed}"]
                config = run.load_config(sets)
                if not run.root.exists() and _same_setup(setup, config):
                    _copy_run(setup, run.root)
                exp = Experiment(run.root, config, progress=progress)
            try:
                if exp.next_stage == "setup":
                    exp.step()
                    if not setup.exists():
                        _copy_run(run.root, setup)
                exp.run()
            finally:
                exp.close()
            status = exp.status()
            final = status["latest_evaluation"] or {}
            row: dict[str, Any] = {"curriculum": curriculum, "seed": seed}
            targets = exp.config.loop.targets
            skills = [*targets, *(s for s in final if s not in targets)]
            row |= {f"success/{s}": final.get(s, {}).get("success") for s in skills}
            learned = [t for t, r in status["library"].items() if r["status"] == "learned"]
            row |= {"learned": len(learned)} | diversity(run)
            rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row if k.startswith("success/")))
    rest = [k for k in rows[0] if not k.startswith("success/")] if rows else []
    frame = pd.DataFrame(rows, columns=[*rest[:2], *columns, *rest[2:]])
    frame = frame.astype(object).where(frame.notna(), None)  # "-" in the table, null in JSON
    rows = frame.to_dict("records")
    table = {"rows": rows, "columns": list(frame.columns)}
    atomic_write_text(root / "compare.json", json.dumps(table, indent=1))
    atomic_write_text(root / "compare.csv", frame.to_csv(index=False))
    shown = frame.assign(stack_pairs=frame["stack_pairs"].map(lambda p: " ".join(p) or "-"))
    atomic_write_text(root / "compare.md", _markdown(shown))
    return table


def _same_setup(snapshot: Path, config: RunConfig) -> bool:
    """Whether `snapshot` (a run just after setup) is what `config`'s setup would produce: the
    same config but for the curriculum, which setup does not read."""
    if not (snapshot / "state.json").exists():
        return False
    theirs = RunDir(snapshot).load_config()
    loop = dataclasses.replace(theirs.loop, curriculum=config.loop.curriculum)
    return dataclasses.replace(theirs, loop=loop) == config


def _copy_run(source: Path, target: Path) -> None:
    """Copy a run directory whole, under a temporary name first (a crash leaves no half copy)."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    partial.rename(target)


def _markdown(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        return "-" if value is None else str(value)

    header = [c.replace("success/", "") for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"
