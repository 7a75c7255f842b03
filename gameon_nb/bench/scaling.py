"""How the learner's cost grows with the work: the data, the model, and the loop's round.

    >>> report = measure_scaling(out="benchmarks/results")   # `gameon bench scaling --json`
    >>> report["data"][0]     # episodes, rows, load_seconds, updates_per_s, seconds_to_base_0_9
    >>> report["model"][-1]   # hidden, gflop_per_update, updates_per_s, utilisation, seconds...

One bootstrap set of the largest size (episode i depends only on the seed and i, so the first n
episodes are the bootstrap set of n). For each data size n its episodes are read as the loop's
train stage reads the store every round (timed: `load_seconds`), and the default learner's
throughput and its time until the 16 base skills reach 0.9 (`bench.speed.seconds_to_target`)
are measured on them; for each hidden size the same on `model_episodes` episodes.
`round_load_seconds` is the same read in a loop round, whose `RowCache` holds every episode but
the round's `NEW` new ones; `round_train_seconds` = that + `loop.train_steps` updates at that
rate: the part of a loop round that grows with the episodes stored (collection, evaluation and
the experimenter's calls do not read the store's contents). With `out`, scaling.svg plots both
axes.
"""

from __future__ import annotations

import time
from pathlib import Path

from gameon_nb.bench.learning import bootstrap_data
from gameon_nb.bench.speed import seconds_to_target, throughput
from gameon_nb.config import LoopConfig, override
from gameon_nb.data.dataset import RowCache, TransitionData
from gameon_nb.data.store import EpisodeStore
from gameon_nb.learner.trainer import Learner
from gameon_nb.records import Json, JsonObject, to_json
from gameon_nb.skills.skill import all_skills
from gameon_nb.widgets.svg import line_chart_svg

__all__ = ["measure_scaling", "round_load", "scaling_svg"]

NEW = 16
"""Episodes a round adds (the demo's `loop.episodes_per_task`)."""


def round_load(
    store: EpisodeStore, ids: list[int], skills: list[str]
) -> tuple[TransitionData, float, float]:
    """The training data of `ids`, the seconds to read them from nothing, and in a round whose
    cache holds all but the last `NEW` of them.

    >>> data, load, in_round = round_load(run.store(), run.store().ids(), skills)  # ..., 3.4, 0.1
    """
    cache = RowCache()
    TransitionData.from_store(store, skills, ids=ids[: max(1, len(ids) - NEW)], cache=cache)
    started = time.perf_counter()
    TransitionData.from_store(store, skills, ids=ids, cache=cache)
    cached = time.perf_counter() - started
    started = time.perf_counter()
    data = TransitionData.from_store(store, skills, ids=ids)
    return data, time.perf_counter() - started, cached


def measure_scaling(
    data_sizes: tuple[int, ...] = (300, 1000, 3000),
    hidden_sizes: tuple[int, ...] = (128, 256, 512),
    model_episodes: int = 1000,
    target: float = 0.9,
    eval_every: int = 2000,
    eval_episodes: int = 20,
    max_minutes: float = 8.0,
    run_dir: Path | str | None = None,
    seed: int = 0,
    assignments: list[str] | None = None,
    timed_updates: int = 300,
    out: Path | str | None = None,
    progress: bool = False,
) -> JsonObject:
    """The figures of the module docstring, as one JSON report (see there)."""
    largest = max(*data_sizes, model_episodes)
    skills = [s.text for s in all_skills()]
    prepared = bootstrap_data(largest, seed, assignments, run_dir, progress, "gameon-scaling-")
    with prepared as (run, config, boot, _):
        ids = run.store().ids()

        def point(episodes: int, hidden: int) -> JsonObject:
            data, load, cached = round_load(run.store(), ids[:episodes], skills)
            cfg = override(config, [f"learner.hidden={hidden}"])
            cost = throughput(cfg.learner, data, seed, timed_updates)
            learner = Learner(cfg.learner, seed)
            learner.set_data(data)
            if progress:
                print(f"scaling: {episodes} episodes, hidden {hidden}")
            reached, curve = seconds_to_target(
                learner, cfg, target, eval_every, eval_episodes, max_minutes, seed, progress
            )
            steps = LoopConfig().train_steps
            return {
                "episodes": episodes, "hidden": hidden, "rows": data.rows,
                "load_seconds": round(load, 2), "round_load_seconds": round(cached, 2),
                **to_json(cost), "gflop_per_update": round(cost["flops_per_update"] / 1e9, 3),
                "round_train_seconds": round(cached + steps / cost["updates_per_s"], 1),
                "seconds_to_base_0_9": reached, "curve": curve,
            }  # fmt: skip

        default = config.learner.hidden
        data = [point(n, default) for n in data_sizes]
        done = {(p["episodes"], p["hidden"]): p for p in data}
        model = [done.get((model_episodes, h)) or point(model_episodes, h) for h in hidden_sizes]
    report: dict[str, Json] = {
        "question": (
            "how the learner's updates/s and time to reliable base skills grow with the data "
            "and the model, and how a loop round grows with the episodes stored"
        ),
        "seed": seed,
        "bootstrap": {"episodes": boot["episodes"], "seconds": boot["seconds"]},
        "target": target,
        "eval": {"every": eval_every, "episodes": eval_episodes},
        "max_minutes": max_minutes,
        "train_steps_per_round": LoopConfig().train_steps,
        "data": data,
        "model": model,
    }
    if out is not None:
        path = Path(out) / "scaling.svg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(scaling_svg(report))
        report["plot"] = str(path)
    return report


def _series(points: Json, x: str, y: str) -> list[tuple[float, float]]:
    assert isinstance(points, list)
    out = []
    for p in points:
        assert isinstance(p, dict)
        if isinstance(xv := p[x], int | float) and isinstance(yv := p[y], int | float):
            out.append((float(xv), float(yv)))
    return out


def scaling_svg(report: JsonObject) -> str:
    """Four panels: seconds to 0.9 and updates/s against the episodes, and against hidden size
    (a point that never reached the target within the budget is left out)."""
    panels = [
        ("data", "episodes", "seconds_to_base_0_9", "seconds to 0.9 vs episodes"),
        ("data", "episodes", "round_train_seconds", "a round's train stage (s) vs episodes"),
        ("model", "hidden", "seconds_to_base_0_9", "seconds to 0.9 vs hidden size"),
        ("model", "hidden", "updates_per_s", "updates/s vs hidden size"),
    ]
    charts = [
        line_chart_svg({y: _series(report[axis], x, y)}, title=title, x_label=x, legend=False)
        for axis, x, y, title in panels
    ]
    width, height = 480, 220
    body = "".join(
        f'<g transform="translate({(i % 2) * width},{(i // 2) * height})">{chart}</g>'
        for i, chart in enumerate(charts)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{2 * height}">'
        f"{body}</svg>"
    )
