"""The `gameon` command.

    $ gameon check-env --json          # Gymnasium's check_env + scripted success per template
    $ gameon bench sim --json          # env step and render speed against raw MuJoCo
    $ gameon bench readouts --run-dir runs/demo --json   # every read-out on one checkpoint
    $ gameon bench learning --minutes 15 --json         # bootstrap, train, every base skill
    $ gameon bench demo --run-dir runs/seeds --json     # the demo on seeds 0, 1, 2
    $ gameon bench learner-speed --json                 # FLOPs, MFU, profile, time to 0.9
    $ gameon bench collect --json                       # episodes/s in-process and on Ray
    $ gameon bench scaling --run-dir runs/scaling --json   # cost against data and model size
    $ gameon snapshot --out scene.png  # a picture of a seeded scene
    $ gameon bootstrap --run-dir runs/a --episodes 200   # the starting data set
    $ gameon retrieve "pick up the red cube" --json      # free text -> library skill
    $ gameon train --run-dir runs/a --steps 5000         # fit the learner on the run's data
    $ gameon eval --run-dir runs/a --skill "lift the red block" --episodes 50 --json
    $ gameon loop --run-dir runs/a --rounds 6            # the experiment loop (resumable)
    $ gameon demo --run-dir runs/demo                    # bootstrap, loop, report: the main job
    $ gameon status --run-dir runs/a --json
    $ gameon compare --run-dir runs/cmp --curricula experimenter,random,target --seeds 0,1
    $ gameon sweep --run-dir runs/bc --grid learner.bc_weight=0.2,0.5 --grid seed=0,1 --executor ray
    $ gameon batch notebooks/03_full_loop.ipynb --run-dir runs/nb --grid rounds=4,8
    $ gameon export --run-dir runs/a --format minari --json   # a Minari dataset of the episodes
    $ gameon import gameon/a-v0 --run-dir runs/b        # and back: a store a run bootstraps from
    $ gameon tensorboard --run-dir runs/a               # tb/ rewritten from the event log

Each subcommand is a thin layer over a library function; `--json` prints its report as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from gameon_nb.config import RunConfig
    from gameon_nb.records import Json, JsonObject

__all__ = ["main"]

T = TypeVar("T")

BENCHES = ("sim", "learner", "learner-speed", "readouts", "learning", "demo", "collect", "scaling")


def _print(report: JsonObject, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")


def run_config(run_dir: Path, assignments: Sequence[str]) -> RunConfig:
    """The run's config: its saved config.json (or the defaults), with `--set` overrides applied
    and validated, saved back atomically once this process holds the run's lock."""
    from gameon_nb.run.dir import RunDir

    run = RunDir(run_dir)
    config = run.load_config(list(assignments))
    run.lock()  # this command is the run's writer until it exits
    run.save_config(config)
    return config


def _bootstrap(args: argparse.Namespace) -> int:
    from gameon_nb.data.bootstrap import bootstrap
    from gameon_nb.data.relabel import relabel_known
    from gameon_nb.records import to_json
    from gameon_nb.run.dir import RunDir

    named = {"episodes": args.episodes, "noise": args.noise, "failure_rate": args.failure_rate}
    named |= {"workers": args.workers}
    sets = [f"bootstrap.{k}={v}" for k, v in named.items() if v is not None]
    if args.seed is not None:
        sets.append(f"seed={args.seed}")
    run = RunDir(args.run_dir)
    config = run_config(run.root, [*sets, *args.set])
    report = bootstrap(run.root, config, progress=True)
    library = run.library()
    relabel_known(library, run.store())
    library.save(run.library_path)
    _print(to_json(report), args.json)
    return 0


def _retrieve(args: argparse.Namespace) -> int:
    from gameon_nb.run.dir import RunDir
    from gameon_nb.skills.library import SkillLibrary
    from gameon_nb.skills.retrieval import SkillRetriever

    library = RunDir(args.run_dir).library() if args.run_dir else SkillLibrary.initial()
    kwargs = {} if args.threshold is None else {"threshold": args.threshold}
    answers = [
        a.to_json() for a in SkillRetriever(library.known(), **kwargs).retrieve_all(args.text)
    ]
    if args.json:
        print(json.dumps(answers, indent=1))
    for a in [] if args.json else answers:
        got = a["skill"] or f"missing skill ({a['reason']})"
        print(f"{a['text']!r} -> {got}  [score {a['score']:.3f}]")
    return 0


def _judge_eval(args: argparse.Namespace) -> int:
    import dataclasses

    from gameon_nb.experimenter import (
        BackendConfigError,
        Experimenter,
        MissingDependencyError,
        UnknownBackendError,
        judge_agreement,
    )
    from gameon_nb.records import to_json
    from gameon_nb.run.dir import RunDir

    run = RunDir(args.run_dir)
    config = run.load_config(list(args.set))  # read, never written: judging changes no run
    judge = dataclasses.replace(config.experimenter.judge, backend=args.backend)
    experimenter = dataclasses.replace(config.experimenter, judge=judge)
    out = Path(args.out) if args.out else run.judge_eval_dir(args.backend)
    exp = Experimenter(experimenter, out, seed=config.seed)
    store = run.store()
    try:
        report = judge_agreement(exp, store, args.segments, camera=config.sim.view_camera)
    except (UnknownBackendError, BackendConfigError, MissingDependencyError) as error:
        print(f"gameon judge-eval: {error}", file=sys.stderr)
        return 2
    paths = {"run_dir": str(run.root), "call_log": str(exp.ledger.log_path)}
    _print(to_json(report) | paths, args.json)
    return 0


def _train(args: argparse.Namespace) -> int:
    import time

    from gameon_nb.data.dataset import TransitionData
    from gameon_nb.learner import Learner
    from gameon_nb.run.dir import RunDir

    run = RunDir(args.run_dir)
    config = run_config(run.root, args.set)
    if not len(run.store()):
        print(
            f"gameon train: no episodes in {run.episodes}; run `gameon bootstrap` first",
            file=sys.stderr,
        )
        return 2
    latest = run.checkpoint("latest")
    if latest.exists():
        learner = Learner.load(latest, config.learner)
    else:
        learner = Learner(config.learner, config.seed, tuple(config.sim.cameras))
    data = TransitionData.from_store(run.store(), run.library().known(), config.learner.pixels)
    learner.set_data(data)
    started, first = time.perf_counter(), learner.step
    limit = None if args.minutes is None else 60 * args.minutes
    rows = learner.fit(args.steps, progress=not args.json, seconds=limit)
    seconds = time.perf_counter() - started
    learner.save(latest)
    report: dict[str, Json] = {"step": learner.step, "rows": data.rows}
    report["seconds"] = round(seconds, 1)
    report |= {
        "updates": learner.step - first,
        "updates_per_s": round((learner.step - first) / seconds, 1),
    }
    report |= {"device": str(learner.device)}
    report |= {"checkpoint": str(latest), "last": {k: round(v, 4) for k, v in rows[-1].items()}}
    _print(report, args.json)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from gameon_nb.learner import Learner, evaluate_skills
    from gameon_nb.records import to_json
    from gameon_nb.run.dir import RunDir
    from gameon_nb.skills.retrieval import SkillRetriever

    run = RunDir(args.run_dir)
    config = run.load_config(args.set)
    latest = run.checkpoint("latest")
    if not latest.exists():
        print(f"gameon eval: no checkpoint at {latest}; run `gameon train` first", file=sys.stderr)
        return 2
    retriever = SkillRetriever(run.library().known())
    skills = []
    for text in args.skill:
        found = retriever.retrieve(text)
        if found.skill is None:
            print(f"gameon eval: {text!r} is not a known skill ({found.reason})", file=sys.stderr)
            return 2
        skills.append(found.skill)
    learner = Learner.load(latest, config.learner)
    results = evaluate_skills(
        learner.act, skills, config.sim, episodes=args.episodes, envs=config.learner.eval_envs,
        seed=config.seed, stop_on_success=config.learner.eval_stop_on_success,
        progress=not args.json,
    )  # fmt: skip
    if args.json:
        report: list[JsonObject] = [{"skill": s, **to_json(r)} for s, r in results.items()]
        print(json.dumps(report if len(report) > 1 else report[0], indent=2))
    for s, r in [] if args.json else results.items():
        low, high = r["ci95"]
        print(f"{s}: {r['success']:.2f} [{low:.2f}, {high:.2f}] over {r['episodes']}")
    return 0


def _loop_sets(args: argparse.Namespace) -> list[str]:
    from gameon_nb.loop.presets import PRESETS

    sets = [*PRESETS.get(getattr(args, "preset", None) or "", []), *args.set]
    if getattr(args, "rounds", None) is not None:
        sets.append(f"loop.rounds={args.rounds}")
    if getattr(args, "experimenter", None):
        sets.append(f"experimenter.backend={args.experimenter}")
    if getattr(args, "curriculum", None):
        sets.append(f"loop.curriculum={args.curriculum}")
    return sets


def _loop(args: argparse.Namespace) -> int:
    from gameon_nb.loop.experiment import Experiment
    from gameon_nb.run.dir import RunDir

    run = RunDir(args.run_dir)
    started = run.state_path.exists()
    if started and not args.resume:
        print(
            f"gameon loop: {run.root} already holds a run (next: {run.load_state().next}); "
            "add --resume to continue it, or choose another --run-dir",
            file=sys.stderr,
        )
        return 2
    config = run.load_config(_loop_sets(args))
    exp = Experiment(run.root, config, progress=not args.json)
    try:
        exp.run()
    finally:
        exp.close()
    _print(exp.status().to_json(), args.json)
    return 0


def _flat(data: JsonObject, prefix: str = "") -> dict[str, Json]:
    """A nested config dict as {"section.field": value}."""
    out: dict[str, Json] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _demo(args: argparse.Namespace) -> int:
    import time

    from gameon_nb.config import override, to_dict
    from gameon_nb.loop.experiment import Experiment
    from gameon_nb.report import write_report
    from gameon_nb.run.dir import RunDir

    run = RunDir(args.run_dir)
    started = time.perf_counter()
    if run.state_path.exists():
        saved = run.load_config()
        asked = override(saved, _loop_sets(args))
        if asked != saved:
            changed = sorted(
                k for k, v in _flat(to_dict(asked)).items() if _flat(to_dict(saved))[k] != v
            )
            print(
                f"gameon demo: {run.root} already holds a demo run, and resuming it keeps its "
                f"config; these options would change it: {', '.join(changed)}. Continue it "
                f"with `gameon loop --run-dir {run.root} --resume --set ...`, or choose a new "
                "--run-dir for a new demo.",
                file=sys.stderr,
            )
            return 2
        exp = Experiment.resume(run.root, progress=not args.json)
    else:
        config = run.load_config(_loop_sets(args))
        exp = Experiment(run.root, config, progress=not args.json)
    try:
        exp.run()
    finally:
        exp.close()
    report = write_report(run.root)
    summary = {
        **exp.status().to_json(),
        "report": str(report),
        "seconds": round(time.perf_counter() - started),
    }
    _print(summary, args.json)
    return 0


def _status(args: argparse.Namespace) -> int:
    from gameon_nb.loop.experiment import Experiment
    from gameon_nb.run.dir import RunDir

    if not RunDir(args.run_dir).config_path.exists():
        print(f"gameon status: {args.run_dir} holds no run", file=sys.stderr)
        return 2
    _print(Experiment.resume(args.run_dir, read_only=True).status().to_json(), args.json)
    return 0


def _export(args: argparse.Namespace) -> int:
    from gameon_nb.data.minari_io import dataset_id_for, export_minari
    from gameon_nb.run.dir import RunDir

    run = RunDir(args.run_dir)
    if not run.config_path.exists():
        print(f"gameon export: {args.run_dir} holds no run (no config.json)", file=sys.stderr)
        return 2
    name = args.name or dataset_id_for(run.root.resolve().name)
    dataset = export_minari(run.store(), run.load_config(), name, args.skill or None, args.root)
    path = dataset.storage.data_path.parent
    _print(
        {"dataset_id": name, "path": str(path), "episodes": dataset.total_episodes}
        | {"steps": dataset.total_steps, "rewards": args.skill or "executed skill"},
        args.json,
    )
    return 0


def _import(args: argparse.Namespace) -> int:
    from gameon_nb.data.minari_io import import_minari
    from gameon_nb.run.dir import RunDir

    run = RunDir(args.run_dir)
    run.lock()  # this command writes the run's store
    ids = import_minari(args.dataset, run.store(), args.root, keep_rounds=args.keep_rounds)
    hint = f"--set bootstrap.episodes={len(ids)}" if not args.keep_rounds else ""
    _print({"run_dir": str(run.root), "episodes": len(ids), "bootstrap_with": hint}, args.json)
    return 0


def _tensorboard(args: argparse.Namespace) -> int:
    from gameon_nb.loop.tensorboard import available, rebuild

    if not available():
        print("gameon tensorboard: pip install 'gameon_nb[tensorboard]'", file=sys.stderr)
        return 2
    from gameon_nb.run.dir import RunDir

    RunDir(args.run_dir).lock()  # a running loop writes tb/ itself
    print(rebuild(args.run_dir))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from gameon_nb.grid import GridError, parse_grid

    curricula = [c.strip() for c in args.curricula.split(",") if c.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    try:
        vary = parse_grid(args.vary, "--vary")
    except GridError as error:
        print(f"gameon compare: {error}", file=sys.stderr)
        return 2
    return _comparison(args, curricula, seeds, _loop_sets(args), vary)


def _sweep(args: argparse.Namespace) -> int:
    from gameon_nb.config import RunConfig, override
    from gameon_nb.grid import GridError, parse_grid

    try:
        grid = parse_grid(args.grid)
    except GridError as error:
        print(f"gameon sweep: {error}", file=sys.stderr)
        return 2
    sets = _loop_sets(args)
    config = override(RunConfig(), sets)  # validated before any run starts
    for field, values in grid.items():
        for value in values:
            override(config, [f"{field}={value}"])
    seeds = [int(s) for s in grid.pop("seed", [str(config.seed)])]
    return _comparison(args, [config.loop.curriculum], seeds, sets, grid)


def _comparison(
    args: argparse.Namespace,
    curricula: list[str],
    seeds: list[int],
    sets: list[str],
    vary: dict[str, list[str]],
) -> int:
    """compare and sweep: run the table, write its page, print it; 1 if a run failed."""
    from gameon_nb.executors import ExecutorError
    from gameon_nb.loop.compare import compare_curricula
    from gameon_nb.run.dir import CompareDir
    from gameon_nb.widgets.evaluation import write_comparison_page

    try:
        table = compare_curricula(
            args.run_dir, curricula, seeds, sets, progress=not args.json, vary=vary,
            executor=args.executor, address=args.ray_address,
        )  # fmt: skip
    except ExecutorError as error:
        print(f"gameon {args.command}: {error}", file=sys.stderr)
        return 2
    write_comparison_page(args.run_dir, table)
    if args.json:
        print(json.dumps(table, indent=2))
    else:
        print(CompareDir(args.run_dir).table("md").read_text())
    for failure in table["failed"]:
        print(f"gameon {args.command}: {failure['run']} failed: {failure['error']} "
              f"(the command again retries it and reuses the rest)", file=sys.stderr)  # fmt: skip
    return 1 if table["failed"] else 0


def _batch(args: argparse.Namespace) -> int:
    from gameon_nb.batch import CellFailedError, NotebookError, ParameterError, run_batch
    from gameon_nb.executors import ExecutorError
    from gameon_nb.grid import GridError, parse_grid
    from gameon_nb.records import to_json

    given = [(name, value) for name, value in args.parameter]
    try:
        if args.grid:
            from gameon_nb.batch_sweep import run_batch_sweep

            sweep = run_batch_sweep(
                args.notebook, args.run_dir, given, parse_grid(args.grid), kernel=args.kernel,
                progress=not args.json, cell_timeout=args.cell_timeout, check_only=args.check,
                executor=args.executor, address=args.ray_address,
            )  # fmt: skip
            if args.json:
                print(json.dumps(to_json(sweep), indent=2))
            for point in [] if args.json else sweep["points"]:
                took = "" if point["seconds"] is None else f" in {point['seconds']:.0f} s"
                print(f"{point['name']}: {point['status']}{took}")
            if sweep["index"] and not args.json:
                print(f"index: {sweep['index']}")
            failed = [p for p in sweep["points"] if p["status"] == "failed"]
            for point in failed:
                print(f"gameon batch: {point['name']} failed: {point['error']}", file=sys.stderr)
            return 1 if failed else 0
        record = run_batch(
            args.notebook, args.run_dir, given, kernel=args.kernel, progress=not args.json,
            cell_timeout=args.cell_timeout, check_only=args.check,
        )  # fmt: skip
    except (ParameterError, NotebookError, GridError, ExecutorError) as error:
        print(f"gameon batch: {error}", file=sys.stderr)
        return 2
    except CellFailedError as error:
        print(f"gameon batch: {error}", file=sys.stderr)
        return 1
    _print(to_json(record), args.json)
    return 0


def _check_env(args: argparse.Namespace) -> int:
    from gameon_nb.records import to_json
    from gameon_nb.sim.check import check_domain

    report = check_domain(resets=args.resets, pixels=not args.no_pixels, progress=not args.json)
    _print(to_json(report), args.json)
    return 0 if report["pass"] else 1


def _given(value: T | None, default: T) -> T:
    """An option's value, or this command's default for it when it was not given."""
    return default if value is None else value


def _bench(args: argparse.Namespace) -> int:
    def sim() -> JsonObject:
        from gameon_nb.bench.sim import measure_sim

        return measure_sim(seconds=args.seconds)

    def learner() -> JsonObject:
        from gameon_nb.bench import learner as bench

        try:
            return bench.measure_learner(
                args.skill or bench.DEFAULT_SKILLS,
                budget_updates=_given(args.budget_updates, bench.DEFAULT_BUDGET_UPDATES),
                budget_seconds=_given(args.budget_seconds, bench.DEFAULT_BUDGET_SECONDS),
                episodes=_given(args.episodes, 50), run_dir=args.run_dir, seed=args.seed,
                data_episodes=args.data_episodes or bench.DEFAULT_DATA_EPISODES,
                threads=args.threads, venv=args.d3rlpy_venv, progress=not args.json,
            )  # fmt: skip
        except bench.BenchLearnerError as error:
            print(f"gameon bench learner: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def readouts() -> JsonObject:
        from gameon_nb.bench.readouts import DEFAULT_SKILLS, measure_readouts
        from gameon_nb.learner.readout import READOUTS

        if args.run_dir is None:
            print("gameon bench readouts: --run-dir (a trained run) is required", file=sys.stderr)
            raise SystemExit(2)
        try:
            return measure_readouts(
                args.run_dir, skills=args.readout_skill or DEFAULT_SKILLS,
                modes=args.modes.split(",") if args.modes else READOUTS,
                episodes=_given(args.episodes, 50),
                checkpoint=args.checkpoint, progress=not args.json,
            )  # fmt: skip
        except (FileNotFoundError, ValueError) as error:
            print(f"gameon bench readouts: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def learning() -> JsonObject:
        from gameon_nb.bench.learning import measure_learning

        return measure_learning(
            minutes=_given(args.minutes, 15.0), episodes=args.data_episodes or 1000,
            eval_episodes=_given(args.episodes, 50),
            run_dir=args.run_dir, seed=args.seed, assignments=args.set, progress=not args.json,
        )  # fmt: skip

    def demo() -> JsonObject:
        from gameon_nb.bench.demo import measure_demo

        if args.run_dir is None:
            print("gameon bench demo: --run-dir (one sub-directory per seed) is required",
                  file=sys.stderr)  # fmt: skip
            raise SystemExit(2)
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        try:
            return measure_demo(args.run_dir, seeds, args.set, progress=not args.json)
        except ValueError as error:
            print(f"gameon bench demo: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def speed() -> JsonObject:
        from gameon_nb.bench.speed import measure_learner_speed

        return measure_learner_speed(
            episodes=args.data_episodes or 1000, eval_every=args.eval_every,
            eval_episodes=_given(args.episodes, 20), max_minutes=_given(args.minutes, 20.0),
            run_dir=args.run_dir,
            seed=args.seed, assignments=args.set, progress=not args.json,
        )  # fmt: skip

    def scaling() -> JsonObject:
        from gameon_nb.bench.scaling import measure_scaling

        return measure_scaling(
            eval_every=args.eval_every, eval_episodes=_given(args.episodes, 20),
            max_minutes=_given(args.minutes, 8.0), run_dir=args.run_dir, seed=args.seed,
            out=args.run_dir, progress=not args.json,
        )  # fmt: skip

    def collect() -> JsonObject:
        from gameon_nb.bench.collect import measure_collect

        return measure_collect(episodes=_given(args.episodes, 64), progress=not args.json)

    benches: dict[str, Callable[[], JsonObject]] = {
        "collect": collect,
        "scaling": scaling,
        "learner-speed": speed,
        "sim": sim,
        "learner": learner,
        "readouts": readouts,
        "learning": learning,
        "demo": demo,
    }
    _print(benches[args.what](), args.json)
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    import mediapy

    from gameon_nb.sim.env import make_env

    env = make_env(view_size=(args.height, args.width), view_shadows=True)
    env.reset(seed=args.seed)
    mediapy.write_image(args.out, env.render_view(args.camera))
    env.close()
    print(args.out)
    return 0


def _add_executor(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--executor", choices=["local", "ray"], default="local",
        help=f"local: {what} one after another here; ray: each {what[:-1]} a Ray task, in parallel",
    )  # fmt: skip
    parser.add_argument(
        "--ray-address", metavar="ADDRESS",
        help="a running Ray cluster (default: RAY_ADDRESS, else a local Ray for this command)",
    )  # fmt: skip


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override a config field (validated); repeatable, e.g. --set sim.image_size=[96,96]",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gameon", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check-env", help="check the env and every scripted controller")
    p.add_argument("--resets", type=int, default=100, help="seeded episodes per template")
    p.add_argument("--no-pixels", action="store_true", help="skip the pixel-observation check")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_check_env)

    p = sub.add_parser("bench", help="side-by-side performance measurements")
    p.add_argument(
        "what",
        choices=BENCHES,
        help="what to measure",
    )
    p.add_argument(
        "--eval-every", type=int, default=2000,
        help="learner-speed, scaling: updates between evaluations",
    )  # fmt: skip
    p.add_argument("--seeds", default="0,1,2", help="demo: comma-separated seeds")
    p.add_argument(
        "--minutes", type=float,
        help="learning: training wall time (default 15); learner-speed: the most training time "
        "(default 20); scaling: the most per point (default 8)",
    )  # fmt: skip
    p.add_argument("--seconds", type=float, default=6.0, help="sim: time per side of each part")
    p.add_argument(
        "--skill", action="append",
        help="learner: a skill to learn (repeatable; default: a reach, a grasp, a lift and a hold, "
        "gameon_nb.bench.learner.DEFAULT_SKILLS)",
    )  # fmt: skip
    p.add_argument("--budget-updates", type=int, help="learner: updates per side (default 6000)")
    p.add_argument("--budget-seconds", type=float, help="learner: training seconds (default 240)")
    p.add_argument(
        "--episodes", type=int,
        help="learner, readouts, learning: eval episodes (default 50); learner-speed: per base "
        "skill (default 20); collect: episodes per side (default 64)",
    )  # fmt: skip
    p.add_argument(
        "--run-dir", type=Path,
        help="learner: a run's episodes (default: a cached set); readouts: the trained run; "
        "demo: one sub-directory per seed",
    )  # fmt: skip
    p.add_argument("--checkpoint", default="latest", help="readouts: checkpoint name")
    p.add_argument("--modes", help="readouts: comma-separated read-outs (default: all)")
    p.add_argument(
        "--readout-skill", action="append", help="readouts: a skill to measure (repeatable)"
    )
    p.add_argument("--seed", type=int, default=0, help="learner: seed of data, nets and resets")
    p.add_argument(
        "--data-episodes", type=int, default=None,
        help="learner: cached set's size (1000); learning, learner-speed: bootstrap episodes "
        "(1000)",
    )  # fmt: skip
    p.add_argument("--threads", type=int, help="learner: torch threads of each side (default 1)")
    p.add_argument("--d3rlpy-venv", type=Path, help="learner: d3rlpy's venv (default in the cache)")
    _add_set(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_bench)

    p = sub.add_parser("bootstrap", help="write the starting data set of scripted episodes")
    p.add_argument("--run-dir", type=Path, required=True, help="run directory (made if missing)")
    p.add_argument("--episodes", type=int, help="episodes the store should hold")
    p.add_argument("--noise", type=float, help="std of Gaussian noise on scripted actions")
    p.add_argument("--failure-rate", type=float, help="chance a skill execution is sabotaged")
    p.add_argument("--workers", type=int, help="simulating processes")
    p.add_argument("--seed", type=int, help="seed of the run")
    _add_set(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_bootstrap)

    p = sub.add_parser("retrieve", help="map free text to library skills (or missing skill)")
    p.add_argument("text", nargs="+", help="instructions, e.g. 'pick up the red cube'")
    p.add_argument("--run-dir", type=Path, help="match the run's library (default: initial)")
    p.add_argument("--threshold", type=float, help="least score to accept a skill")
    p.add_argument("--json", action="store_true", help="print a JSON list, one entry per text")
    p.set_defaults(run=_retrieve)

    p = sub.add_parser("judge-eval", help="agreement of a judge backend with ground truth")
    p.add_argument("--run-dir", type=Path, required=True, help="run whose segments to judge")
    p.add_argument("--backend", default="scripted", help="judge backend (scripted: the reference)")
    p.add_argument("--segments", type=int, help="judge only the first N segments")
    p.add_argument("--out", type=Path, help="call log and cache (default RUN_DIR/judge_eval/NAME)")
    _add_set(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_judge_eval)

    p = sub.add_parser("train", help="fit the learner on a run's data (from its latest checkpoint)")
    p.add_argument("--run-dir", type=Path, required=True, help="run directory with episodes")
    p.add_argument("--steps", type=int, required=True, help="learner updates")
    p.add_argument("--minutes", type=float, help="stop earlier when this wall time has passed")
    _add_set(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_train)

    p = sub.add_parser("eval", help="success rate of the run's policy from fresh resets")
    p.add_argument("--run-dir", type=Path, required=True, help="run directory with a checkpoint")
    p.add_argument("--skill", action="append", required=True, help="skill text (repeatable)")
    p.add_argument("--episodes", type=int, default=50, help="episodes per skill")
    _add_set(p)
    p.add_argument("--json", action="store_true", help="print {skill, success, ci95, ...}")
    p.set_defaults(run=_eval)

    def loop_options(p: argparse.ArgumentParser, preset: str | None = None) -> None:
        p.add_argument(
            "--preset", choices=["demo", "study", "tiny", "gpu"], default=preset,
            help=f"a named budget (gameon_nb/loop/presets.py); default {preset or 'none'}",
        )  # fmt: skip
        p.add_argument("--rounds", type=int, help="round budget")
        p.add_argument(
            "--experimenter", help="backend of every role: scripted, gemini, openai, replay"
        )
        p.add_argument("--curriculum", help="experimenter, random, fixed, target or none")
        _add_set(p)
        p.add_argument("--json", action="store_true", help="print the status as JSON")

    p = sub.add_parser("loop", help="run the experiment loop in a run directory")
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    loop_options(p)
    p.set_defaults(run=_loop)

    p = sub.add_parser("demo", help="bootstrap, the loop on the scripted experimenter, a report")
    p.add_argument("--run-dir", type=Path, required=True)
    loop_options(p, preset="demo")
    p.set_defaults(run=_demo)

    p = sub.add_parser("status", help="stage, round, episodes, library and latest evaluation")
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_status)

    p = sub.add_parser("compare", help="the same budget under several curricula and seeds")
    p.add_argument("--run-dir", type=Path, required=True, help="one sub-directory per run")
    p.add_argument(
        "--curricula", default="experimenter,random,target",
        help="comma-separated: experimenter, random, fixed, target, none (offline-only)",
    )  # fmt: skip
    p.add_argument("--seeds", default="0,1")
    p.add_argument(
        "--vary", action="append", default=[], metavar="SECTION.FIELD=V1,V2",
        help="also cross the curricula with these values, e.g. loop.outcome_source=truth,judge",
    )  # fmt: skip
    _add_executor(p, "runs")
    loop_options(p)
    p.set_defaults(run=_compare)

    p = sub.add_parser("sweep", help="one run per point of a grid of settings, and their table")
    p.add_argument("--run-dir", type=Path, required=True, help="one sub-directory per run")
    p.add_argument(
        "--grid", action="append", required=True, metavar="SECTION.FIELD=V1,V2",
        help="values of a config field (repeatable; the runs are every combination), e.g. "
        "learner.bc_weight=0.2,0.5 or seed=0,1,2",
    )  # fmt: skip
    _add_executor(p, "runs")
    loop_options(p)
    p.set_defaults(run=_sweep)

    p = sub.add_parser("export", help="the run's episodes as a Minari dataset")
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--format", choices=["minari"], default="minari")
    p.add_argument(
        "--skill", action="append", default=[], metavar="TEXT",
        help="relabel every episode for this skill (repeatable; default: each step's own skill)",
    )  # fmt: skip
    p.add_argument("--name", help="dataset id (default gameon/<run name>-v0)")
    p.add_argument("--root", type=Path, help="datasets directory (default: Minari's own)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_export)

    p = sub.add_parser("import", help="a Minari dataset from `gameon export` as a run's episodes")
    p.add_argument("dataset", help="dataset id, e.g. gameon/demo-v0")
    p.add_argument("--run-dir", type=Path, required=True, help="a run directory with no episodes")
    p.add_argument("--root", type=Path, help="datasets directory (default: Minari's own)")
    p.add_argument(
        "--keep-rounds", action="store_true",
        help="keep each episode's round (an exact copy); default: all become bootstrap data",
    )  # fmt: skip
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_import)

    p = sub.add_parser("tensorboard", help="write the run's tb/ afresh from its event log")
    p.add_argument("--run-dir", type=Path, required=True)
    p.set_defaults(run=_tensorboard)

    p = sub.add_parser("batch", help="run a notebook with papermill, parameters validated first")
    p.add_argument("notebook", type=Path, help="the notebook, e.g. notebooks/03_full_loop.ipynb")
    p.add_argument("--run-dir", type=Path, required=True, help="where the run and records go")
    p.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="a parameter of the notebook's parameters cell, or a config field as section.field",
    )  # fmt: skip
    p.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
    p.add_argument("--cell-timeout", type=float, help="seconds a cell may run (default: no limit)")
    p.add_argument("--check", action="store_true", help="validate the parameters, run nothing")
    p.add_argument(
        "--grid", action="append", default=[], metavar="NAME=V1,V2",
        help="run once per combination of these parameter values (repeatable), each in its own "
        "sub-directory of --run-dir, with an index.html of them all",
    )  # fmt: skip
    _add_executor(p, "notebooks")
    p.add_argument("--json", action="store_true", help="print the record as JSON")
    p.set_defaults(run=_batch)

    p = sub.add_parser("snapshot", help="write a picture of a seeded scene")
    p.add_argument("--out", default="scene.png", help="image file to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--camera", default="experimenter")
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--width", type=int, default=480)
    p.set_defaults(run=_snapshot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from gameon_nb.config import ConfigError
    from gameon_nb.data.minari_io import MinariError
    from gameon_nb.loop.curricula import UnknownCurriculumError
    from gameon_nb.run.dir import RunStateError

    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (ConfigError, UnknownCurriculumError, RunStateError, MinariError) as error:
        parser.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
