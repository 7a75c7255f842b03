"""Read-outs x skills on one checkpoint; saves benchmarks/results/readouts-DATE.json.

    $ .venv/bin/python benchmarks/readouts.py --run-dir runs/demo     # gameon bench readouts --json
    $ .venv/bin/python benchmarks/readouts.py --run-dir runs/demo --episodes 20 --modes mean,critic

Each read-out drives the same policy on the same resets, 50 episodes per skill by default (about
eight minutes per read-out on a 2-core CPU).
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("readouts", sys.argv[1:])
