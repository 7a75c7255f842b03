"""Simulator speed: our env against raw MuJoCo; saves benchmarks/results/sim-DATE.json.

    $ .venv/bin/python benchmarks/sim.py                  # `gameon bench sim --json`
    $ .venv/bin/python benchmarks/sim.py --seconds 12     # options pass through to the command

Takes about twice --seconds (physics, then rendering), plus start-up.
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("sim", sys.argv[1:])
