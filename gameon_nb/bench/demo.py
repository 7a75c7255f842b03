"""The demo's figure: `gameon demo` on several seeds, each seed's rounds, and the goal checked.

    >>> report = measure_demo("runs/demo-seeds", seeds=[0, 1, 2])   # `gameon bench demo --json`
    >>> report["goal_met"], [s["seconds"] for s in report["seeds"]]

The question (issue 12): on the demo's budget (at most 15 minutes on a 2-core CPU), does a stack
skill join the library as learned, with evaluated success >= 0.7 over >= 20 episodes, on every
seed? Each seed runs in `root/seed{N}` with the `demo` preset; a finished run there is read back,
not rerun, and its wall time is the span of its own events, so the figure is the original run's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

from gameon_nb.config import override
from gameon_nb.loop import events as ev
from gameon_nb.loop.experiment import Experiment
from gameon_nb.loop.presets import DEMO
from gameon_nb.records import JsonObject, to_json
from gameon_nb.run.dir import RunDir
from gameon_nb.skills.results import SkillResult
from gameon_nb.skills.skill import Skill

__all__ = ["GOAL_EPISODES", "GOAL_SUCCESS", "measure_demo"]

GOAL_SUCCESS = 0.7
GOAL_EPISODES = 20


class SeedReport(TypedDict):
    """One seed's demo: wall time, what joined the library, and each round with its composites."""

    seed: int
    seconds: int
    """Wall time of the run, from its first event to its last."""
    setup_seconds: int
    updates: int
    episodes: int
    stacks_learned: dict[str, float | None]
    """Stack skills that joined as learned, and their latest success."""
    goal_met: bool
    rounds: list[JsonObject]
    """The round table's rows, each with {"composites": skill -> {"success", "episodes"}}."""


def measure_demo(
    root: Path | str, seeds: list[int], assignments: list[str] | None = None, progress: bool = False
) -> JsonObject:
    """Run (or read back) the demo on each seed; see the module docstring."""
    per_seed = []
    for seed in seeds:
        run = RunDir(Path(root) / f"seed{seed}")
        sets = [*DEMO, *(assignments or []), f"seed={seed}"]
        if run.state_path.exists():
            exp = Experiment.resume(run.root, progress=progress)
            if exp.config != override(run.load_config(), sets):
                raise ValueError(f"{run.root} holds a run of another config: choose a new root")
        else:
            exp = Experiment(run.root, run.load_config(sets), progress=progress)
        try:
            exp.run()
            per_seed.append(_seed_report(exp, seed))
        finally:
            exp.close()
    met = [s["seed"] for s in per_seed if s["goal_met"]]
    return {
        "goal": f"a stack joins as learned with success >= {GOAL_SUCCESS} over >= "
        f"{GOAL_EPISODES} episodes, on every seed, in at most 15 minutes",
        "goal_met": len(met) == len(seeds) and all(s["seconds"] <= 900 for s in per_seed),
        "seeds_meeting_goal": met,
        "preset": DEMO,
        "assignments": assignments or [],
        "seeds": to_json(per_seed),
    }


def _seed_report(exp: Experiment, seed: int) -> SeedReport:
    log = ev.EventLog(exp.rundir.events_path).read()
    setup = next(e for e in log if isinstance(e, ev.StageFinished) and e.stage == "setup")
    stacks_learned = {
        text: record.latest_success
        for text, record in exp.library.records.items()
        if record.status == "learned" and Skill.from_text(text).template == "stack"
    }
    rounds: list[JsonObject] = []
    enough: set[str] = set()  # composites evaluated well enough in some round
    for row in exp.round_table():
        path = exp.rundir.evaluation(row.round)
        evaluated: dict[str, SkillResult] = json.loads(path.read_text()) if path.exists() else {}
        composites = {
            t: {"success": r["success"], "episodes": r["episodes"]}
            for t, r in evaluated.items()
            if Skill.from_text(t).kind == "composite"
        }
        enough |= {
            t
            for t, r in composites.items()
            if r["episodes"] >= GOAL_EPISODES and r["success"] >= GOAL_SUCCESS
        }
        rounds.append(to_json(row) | {"composites": composites})
    return SeedReport(
        seed=seed,
        seconds=round(log[-1].time - log[0].time),
        setup_seconds=round(setup.seconds),
        updates=exp.learner.step,
        episodes=len(exp.store),
        stacks_learned=stacks_learned,
        goal_met=bool(enough & stacks_learned.keys()),
        rounds=rounds,
    )
