"""The `gameon` command.

    $ gameon check-env --json          # Gymnasium's check_env + scripted success per template
    $ gameon bench sim --json          # env step and render speed against raw MuJoCo
    $ gameon snapshot --out scene.png  # a picture of a seeded scene

Each subcommand is a thin layer over a library function; `--json` prints its report as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main"]


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")


def _check_env(args: argparse.Namespace) -> int:
    from gameon_nb.sim.check import check_domain

    report = check_domain(resets=args.resets, pixels=not args.no_pixels, progress=not args.json)
    _print(report, args.json)
    return 0 if report["pass"] else 1


def _bench(args: argparse.Namespace) -> int:
    from gameon_nb.bench.sim import measure_sim

    benches: dict[str, Callable[[], dict[str, Any]]] = {
        "sim": lambda: measure_sim(seconds=args.seconds),
    }
    _print(benches[args.what](), args.json)
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    import mediapy

    from gameon_nb.sim.env import make_env

    env = make_env(view_size=(args.height, args.width))
    env.reset(seed=args.seed)
    mediapy.write_image(args.out, env.render_view(args.camera))
    env.close()
    print(args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gameon", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check-env", help="check the env and every scripted controller")
    p.add_argument("--resets", type=int, default=100, help="seeded episodes per template")
    p.add_argument("--no-pixels", action="store_true", help="skip the pixel-observation check")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_check_env)

    p = sub.add_parser("bench", help="side-by-side performance measurements")
    p.add_argument("what", choices=["sim"], help="what to measure")
    p.add_argument("--seconds", type=float, default=6.0, help="time per side of each measurement")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_bench)

    p = sub.add_parser("snapshot", help="write a picture of a seeded scene")
    p.add_argument("--out", default="scene.png", help="image file to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--camera", default="experimenter")
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--width", type=int, default=480)
    p.set_defaults(run=_snapshot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
