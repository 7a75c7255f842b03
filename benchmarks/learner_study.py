"""What moves the learner's time to reliable base skills; saves one
benchmarks/results/learner-speed-TAG-DATE.json per setting and prints the study's table.

    $ .venv/bin/python benchmarks/learner_study.py --run-dir runs/speed        # every setting
    $ .venv/bin/python benchmarks/learner_study.py --run-dir runs/speed --only lr3e-4 atoms21-bins11
    $ .venv/bin/python benchmarks/learner_study.py --table      # the table of the saved results

Each setting is `gameon bench learner-speed` with some `--set`s on the same 1,000 bootstrap
episodes (made once in `--run-dir`), evaluated every 1,000 updates: 5-8 minutes each on a 2-core
CPU, one after another. One knob moves at a time from `BASE` (hidden 256, 4 action samples: the
default while the study ran, 2026-12-01; so `base` ran with no `--set`), in the order of
`SETTINGS`; a setting that does not reach 0.9 stops after 5 minutes of training.
"""

from __future__ import annotations

import argparse
import json

from _save import RESULTS, run_and_save

BASE = ["learner.hidden=256", "learner.action_samples=4"]
"""What every setting starts from; a setting's own assignments come after and win."""

SETTINGS: dict[str, list[str]] = {
    "base": [],
    "atoms21-bins11": ["learner.atoms=21", "learner.bins=11"],
    "lr2e-3": ["learner.lr=2e-3"],
    "lr3e-4": ["learner.lr=3e-4"],
    "nstep10": ["learner.n_step=10"],
    "bc0.5": ["learner.bc_weight=0.5"],
    "bc0.9": ["learner.bc_weight=0.9"],
    "task0.25": ["learner.task_fraction=0.25"],
    "hidden128": ["learner.hidden=128"],
    "nstep1": ["learner.n_step=1"],
    "batch512": ["learner.batch_size=512"],
}
"""Tag -> assignments on top of `BASE`."""

EVAL_EVERY = ["--eval-every", "1000", "--minutes", "5"]
"""Finer than the bench's 2,000; a setting gets 5 minutes of training (the goal is 4)."""


def table() -> str:
    """The markdown table of the saved results of every setting (the newest of each)."""
    lines = [
        "| setting | GFLOP/update | updates/s (timed; training) | utilisation (timed; training) "
        "| s to 0.9 | updates to 0.9 | mean at 2k / 4k / 6k / 8k updates |",
        "|---|---|---|---|---|---|---|",
    ]
    for tag, sets in SETTINGS.items():
        found = sorted(RESULTS.glob(f"learner-speed-{tag}-*.json"))
        if not found:
            continue
        report = json.loads(found[-1].read_text())
        curve = {c["updates"] // 1000 * 1000: c["mean"] for c in report["curve"]}
        reached = report["seconds_to_base_0_9"]
        at = next((c["updates"] for c in report["curve"] if c["mean"] >= 0.9), None)
        last = report["curve"][-1]
        whole = last["updates"] / last["seconds"]  # = training_updates_per_s, in newer reports
        used = report["flops_per_update"] * whole / 1e9 / report["matmul_peak_gflop_per_s"]
        means = " / ".join(
            f"{curve[k]:.2f}" if k in curve else "-" for k in (2000, 4000, 6000, 8000)
        )
        lines.append(
            f"| {', '.join(sets) or 'hidden 256, 4 samples'} | {report['gflop_per_update']} | "
            f"{report['updates_per_s']}; {whole:.1f} | "
            f"{report['model_flops_utilisation']:.2f}; {used:.2f} | "
            f"{reached if reached is not None else 'not reached'} | {at or '-'} | {means} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(SETTINGS), help="these settings only")
    parser.add_argument("--table", action="store_true", help="print the table of saved results")
    args, passed = parser.parse_known_args()
    if not args.table:
        for tag in args.only or list(SETTINGS):
            sets = [a for s in [*BASE, *SETTINGS[tag]] for a in ("--set", s)]
            run_and_save("learner-speed", [*EVAL_EVERY, *sets, *passed], tag=tag)
    print(table())
