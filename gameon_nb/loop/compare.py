"""Curricula compared: the same budget under each curriculum and seed, and what each produced.

    >>> table = compare_curricula("runs/cmp", ["experimenter", "random", "none"], seeds=[0, 1])
    >>> table["rows"][0]      # {"curriculum", "seed", "success/<skill>"..., "stacks", ...}
    >>> table["summary"]      # per curriculum: mean composite success over seeds, library sizes

Each (curriculum, seed) runs in its own sub-directory (resumed if it exists). Setup (bootstrap
data, pretraining, the first evaluation) reads no curriculum, so it runs once per seed: kept as
setup-seed<N>/ and copied into that seed's other runs. Every run then gets the same final
evaluation: the targets and every composite skill, `loop.eval_episodes` each on the same resets
(kept in the run as compare-final.json), so the curricula are compared at equal updates on equal
tests whatever each practised. Per run also: the library's size after each round, the task
success, the updates and episodes behind it, and the diversity of the collected data (distinct
tasks, the entropy of the executed skill sequences, the stack pairs that occurred in it).
Written as compare.json, .csv and .md; `gameon compare` adds compare.html (the table and charts,
`widgets.evaluation.write_comparison_page`), which notebooks show inline with `comparison_html`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Required, TypedDict

import numpy as np
import pandas as pd

from gameon_nb.atomic import atomic_write_text
from gameon_nb.config import RunConfig
from gameon_nb.data.bootstrap import COMPOSITES
from gameon_nb.executors import Executor, ray_session, run_all
from gameon_nb.learner.evaluate import evaluate_skills
from gameon_nb.loop.experiment import Experiment, round_or_none
from gameon_nb.records import Json, to_json
from gameon_nb.run.dir import CompareDir, RunDir, RunLock
from gameon_nb.sim.templates import TEMPLATES
from gameon_nb.skills.results import SkillResult
from gameon_nb.skills.skill import Skill
from gameon_nb.streams import FINAL_EVALUATION, stream_seed

__all__ = [
    "Arm",
    "Comparison",
    "Diversity",
    "Failure",
    "Row",
    "arms",
    "compare_curricula",
    "diversity",
    "final_evaluation",
    "summarise",
]

Row = dict[str, Json]
"""A row of the table: open-shaped, with a "success/<skill>" column per evaluated skill."""


class Failure(TypedDict, total=False):
    """A run that did not finish: its name, the error's last line, and the full trace."""

    run: Required[str]
    error: Required[str]
    trace: str


class Comparison(TypedDict):
    """compare.json: one row per finished run, the columns in order, one summary entry per
    arm, and the runs that failed (by name, with their error)."""

    rows: list[Row]
    columns: list[str]
    summary: list[Row]
    failed: list[Failure]


class Diversity(TypedDict):
    episodes: int
    distinct_tasks: int
    sequence_entropy_bits: float
    stack_pairs: list[str]


class Arm(TypedDict):
    """A curriculum with values of the varied fields: one set of seeds of a comparison."""

    curriculum: str
    variant: str
    name: str
    dir: str
    sets: list[str]
    shares_setup: bool


def diversity(run: RunDir) -> Diversity:
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
    return Diversity(
        episodes=total, distinct_tasks=len(tasks), sequence_entropy_bits=round(entropy, 3),
        stack_pairs=sorted(pairs),
    )  # fmt: skip


GROUPS = {"stacks": "stack", "next to": "next_to", "towers": "tower"}
"""Columns of mean final success over a template's skills."""


class FinalCache(TypedDict):
    """compare-final.json: the final evaluation and the learner step it was made at."""

    step: int
    results: dict[str, SkillResult]


def final_evaluation(exp: Experiment, skills: list[str]) -> dict[str, SkillResult]:
    """`skills` evaluated on the run's latest policy (cached in compare-final.json per step)."""
    path = exp.rundir.compare_final
    step = exp.learner.step
    if path.exists():
        cached: FinalCache = json.loads(path.read_text())
        if cached.get("step") == step and set(skills) <= set(cached["results"]):
            return {s: cached["results"][s] for s in skills}
    cfg = exp.config
    policy = exp.learner.policy(seed=stream_seed(cfg.seed, FINAL_EVALUATION))
    results = evaluate_skills(
        policy, skills, cfg.sim, episodes=cfg.loop.eval_episodes, envs=cfg.learner.eval_envs,
        seed=cfg.seed, stop_on_success=cfg.learner.eval_stop_on_success, progress=exp.progress,
    )  # fmt: skip
    atomic_write_text(path, json.dumps(FinalCache(step=step, results=results), indent=1))
    return results


SETUP_FREE = ("loop.curriculum", "loop.outcome_source")
"""Fields setup does not read: runs that differ only in them share a seed's setup."""


def arms(curricula: list[str], vary: dict[str, list[str]] | None = None) -> list[Arm]:
    """Every curriculum crossed with every combination of the varied fields.

    >>> arms(["experimenter"], {"loop.outcome_source": ["truth", "judge"]})[1]["name"]
    'experimenter outcome_source=judge'
    """
    combos: list[list[tuple[str, str]]] = [[]]
    for field, values in (vary or {}).items():
        combos = [[*c, (field, v)] for c in combos for v in values]
    out = []
    for curriculum in curricula:
        for combo in combos:
            label = " ".join(f"{f.split('.')[-1]}={v}" for f, v in combo)
            out.append(
                Arm(
                    curriculum=curriculum, variant=label, name=f"{curriculum} {label}".strip(),
                    dir="-".join([curriculum, *(f"{f.split('.')[-1]}={v}" for f, v in combo)]),
                    sets=[f"{f}={v}" for f, v in combo],
                    shares_setup=all(f in SETUP_FREE for f, _ in combo),
                )
            )  # fmt: skip
    return out


def compare_curricula(
    root: Path | str,
    curricula: list[str],
    seeds: list[int],
    assignments: list[str] | None = None,
    progress: bool = False,
    vary: dict[str, list[str]] | None = None,
    executor: Executor = "local",
    address: str | None = None,
) -> Comparison:
    """Run every (curriculum, variant, seed) with the same overrides; see the module docstring.

    `vary` crosses the curricula with values of other fields, e.g. {"loop.outcome_source":
    ["truth", "judge"]} runs each curriculum on the oracle's word and on the judge's.
    `executor="ray"` runs the setups, then the runs, as Ray tasks (`gameon_nb.executors`);
    the table is the same either way. A run that fails is listed in "failed" by name and the
    others finish; called again, the comparison resumes what did not finish and reuses the rows
    of what did (compare-row.json in each run).
    """
    root = Path(root)
    plans = _plans(root, curricula, seeds, assignments or [], vary)
    session = ray_session(address) if executor == "ray" else contextlib.nullcontext()
    with RunLock(root), session:  # one comparison writes this directory at a time
        return _compare(root, plans, progress, executor, address)


@dataclass(frozen=True)
class RunPlan:
    """One run of a comparison: where it goes, the setup it starts from, its overrides."""

    arm: Arm
    seed: int
    root: Path
    setup: Path
    sets: tuple[str, ...]
    progress: bool = False


def _plans(
    root: Path,
    curricula: list[str],
    seeds: list[int],
    assignments: list[str],
    vary: dict[str, list[str]] | None,
) -> list[RunPlan]:
    runs = CompareDir(root)
    out = []
    for arm in arms(curricula, vary):
        for seed in seeds:
            shared = f"setup-seed{seed}" + ("" if arm["shares_setup"] else f"-{arm['dir']}")
            sets = [*assignments, *arm["sets"], f"loop.curriculum={arm['curriculum']}"]
            out.append(
                RunPlan(
                    arm, seed, runs.run(f"{arm['dir']}-seed{seed}").root, runs.run(shared).root,
                    (*sets, f"seed={seed}"),
                )
            )  # fmt: skip
    return out


def _compare(
    root: Path, plans: list[RunPlan], progress: bool, executor: Executor, address: str | None
) -> Comparison:
    local = executor == "local"
    plans = [dataclasses.replace(p, progress=progress and local) for p in plans]
    waiting = [p for p in plans if not RunDir(p.root).state_path.exists()]
    first: dict[Path, RunPlan] = {}
    for plan in waiting:  # a setup is made with the config of the first run that waits for it
        first.setdefault(plan.setup, plan)
    setups = [p for p in first.values() if not _set_up(RunDir(p.setup))]
    names = [p.setup.name for p in setups]
    made = run_all(_setup, setups, names, executor, address, progress, desc="setups")
    broken = {p.setup: o.error for p, o in zip(setups, made, strict=True) if not o.ok}
    todo = [p for p in plans if p.setup not in broken or RunDir(p.root).state_path.exists()]
    outcomes = run_all(
        _run, todo, [p.root.name for p in todo], executor, address, progress, desc="runs"
    )  # fmt: skip
    found = {p.root: o for p, o in zip(todo, outcomes, strict=True)}
    rows: list[Row] = []
    failed: list[Failure] = []
    for plan in plans:
        outcome = found.get(plan.root)
        if outcome is None:
            failed.append(
                Failure(run=plan.root.name, error=f"its setup failed: {broken[plan.setup]}")
            )
        elif outcome.value is None:
            failed.append(
                Failure(run=plan.root.name, error=outcome.error or "", trace=outcome.trace or "")
            )
        else:
            rows.append(outcome.value)
    return _write_tables(root, rows, failed)


def _set_up(run: RunDir) -> bool:
    return run.state_path.exists() and run.load_state().next != "setup"


def _setup(plan: RunPlan) -> None:
    """Set up `plan.setup` once for the runs that share it; each run starts from a copy."""
    setup = RunDir(plan.setup)
    if setup.state_path.exists():
        exp = Experiment.resume(setup.root, progress=plan.progress)
    else:
        exp = Experiment(setup.root, setup.load_config(list(plan.sets)), progress=plan.progress)
    try:
        while exp.next_stage == "setup":
            exp.step()
    finally:
        exp.close()


def _run(plan: RunPlan) -> Row:
    """One run to its end and its row; nothing recomputed if its row is of its current state."""
    run = RunDir(plan.root)
    if (cached := _cached_row(run)) is not None:
        return cached
    if run.state_path.exists():
        exp = Experiment.resume(run.root, progress=plan.progress)
    else:
        config = run.load_config(list(plan.sets))
        if not run.root.exists() and _same_setup(plan.setup, config):
            _copy_run(plan.setup, run.root)
        exp = Experiment(run.root, config, progress=plan.progress)
    try:
        exp.run()
        targets = list(exp.config.loop.targets)
        skills = [*targets, *(s.text for s in COMPOSITES if s.text not in targets)]
        final = final_evaluation(exp, skills)
    finally:
        exp.close()
    row: Row = {"arm": plan.arm["name"], "run": run.root.name}
    row |= _row(exp, plan.arm["curriculum"], plan.seed, final)
    row |= {"variant": plan.arm["variant"] or None} | to_json(diversity(run))
    cache = CachedRow(state_sha256=_digest(run.state_path), row=row)
    atomic_write_text(run.compare_row, json.dumps(cache, indent=1))
    return row


class CachedRow(TypedDict):
    """compare-row.json: a run's row and a digest of the state.json it was computed from."""

    state_sha256: str
    row: Row


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cached_row(run: RunDir) -> Row | None:
    if not (run.compare_row.exists() and run.state_path.exists()):
        return None
    cached: CachedRow = json.loads(run.compare_row.read_text())
    row: Row = cached["row"]
    return row if cached.get("state_sha256") == _digest(run.state_path) else None


def _write_tables(root: Path, rows: list[Row], failed: list[Failure]) -> Comparison:
    """compare.json, .csv and .md of the finished runs' rows."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype(object).where(frame.notna(), None)  # "-" in the table, null in JSON
    rows = frame.to_dict("records")  # the same rows, a None in every column a row lacks
    table = Comparison(
        rows=rows, columns=list(frame.columns), summary=summarise(rows), failed=failed
    )
    out = CompareDir(root)
    atomic_write_text(out.table("json"), json.dumps(table, indent=1))
    atomic_write_text(out.table("csv"), frame.to_csv(index=False))
    if rows:
        frame = frame.assign(
            stack_pairs=frame["stack_pairs"].map(lambda p: " ".join(p) or "-"),
            library_size=frame["library_size"].map(lambda p: " ".join(map(str, p)) or "-"),
        )
    failures = "".join(f"\nfailed: {f['run']}: {f['error']}" for f in failed)
    atomic_write_text(
        out.table("md"), _markdown(frame) + "\n" + _summary_markdown(table) + failures
    )
    return table


def _row(exp: Experiment, curriculum: str, seed: int, final: dict[str, SkillResult]) -> Row:
    status = exp.status()
    row: Row = {"curriculum": curriculum, "seed": seed}
    row |= {f"success/{s}": r["success"] for s, r in final.items()}
    for column, template in GROUPS.items():
        rates = [r["success"] for s, r in final.items() if Skill.from_text(s).template == template]
        row[column] = round_or_none(float(np.mean(rates)) if rates else None)
    learned = [t for t, r in status.library.items() if r.status == "learned"]
    task = [r.task_success for r in status.rounds if r.task_success is not None]
    row |= {"learned": len(learned), "library_size": [r.library_size for r in status.rounds]}
    row |= {"task_success": round_or_none(float(np.mean(task)) if task else None)}
    row |= {"updates": exp.learner.step, "stored_episodes": status.episodes}
    return row


def summarise(rows: list[Row]) -> list[Row]:
    """Per arm (curriculum and variant) over its seeds: mean, min and max of each group's final
    success, of the learned skills and of the task success; the mean library size per round."""
    out = []
    for arm in dict.fromkeys(r.get("arm", r["curriculum"]) for r in rows):
        mine = [r for r in rows if r.get("arm", r["curriculum"]) == arm]
        entry: Row = {"curriculum": arm, "seeds": len(mine)}
        for column in [*GROUPS, "learned", "task_success"]:
            values = [float(v) for r in mine if isinstance(v := r.get(column), int | float)]
            entry[column] = (
                {"mean": round(float(np.mean(values)), 4), "min": min(values), "max": max(values)}
                if values
                else None
            )
        sizes = [_numbers(r["library_size"]) for r in mine]
        rounds = min(len(s) for s in sizes)
        entry["library_size"] = [
            round(float(np.mean([s[i] for s in sizes])), 2) for i in range(rounds)
        ]
        out.append(entry)
    return out


def _numbers(value: Json) -> list[float]:
    assert isinstance(value, list), value
    return [float(v) for v in value if isinstance(v, int | float)]


def _spread(value: Json) -> str:
    """A summary cell: "mean (min-max)", or "-" where no seed had a value."""
    if not isinstance(value, dict):
        return "-"
    return f"{value['mean']:.2f} ({value['min']:.2f}-{value['max']:.2f})"


def _summary_markdown(table: Comparison) -> str:
    columns = [*GROUPS, "learned", "task_success"]
    lines = [
        "| curriculum | seeds | " + " | ".join(columns) + " | library size per round |",
        "|" + "---|" * (len(columns) + 3),
    ]
    for entry in table["summary"]:
        cells = [_spread(entry[c]) for c in columns]
        sizes = " ".join(f"{v:g}" for v in _numbers(entry["library_size"])) or "-"
        lines.append(
            f"| {entry['curriculum']} | {entry['seeds']} | {' | '.join(cells)} | {sizes} |"
        )
    return "\n".join(lines) + "\n"


def _same_setup(snapshot: Path, config: RunConfig) -> bool:
    """Whether `snapshot` (a run just after setup) is what `config`'s setup would produce: the
    same config but for the SETUP_FREE fields, which setup does not read."""
    if not RunDir(snapshot).state_path.exists():
        return False
    theirs = RunDir(snapshot).load_config()
    mine = {f.split(".")[1]: getattr(config.loop, f.split(".")[1]) for f in SETUP_FREE}
    return dataclasses.replace(theirs, loop=dataclasses.replace(theirs.loop, **mine)) == config


def _copy_run(source: Path, target: Path) -> None:
    """Copy a run directory whole (not its lock, nor tb/, which is rewritten from the events),
    under a temporary name first (a crash leaves no half copy)."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial, ignore=shutil.ignore_patterns(".lock", "tb"))
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
