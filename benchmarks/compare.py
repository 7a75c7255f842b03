"""A comparison of curricula; saves benchmarks/results/compare-LABEL-DATE.json.

    $ .venv/bin/python benchmarks/compare.py standard --run-dir runs/cmp --preset demo \\
          --curricula experimenter,random,fixed,target,none --seeds 0,1,2
    $ .venv/bin/python benchmarks/compare.py clean --run-dir runs/cmp-clean --preset demo \\
          --curricula experimenter,none --seeds 0 --set bootstrap.composites=exclude

The first argument labels the result; the rest are `gameon compare` options. Runs that exist in
the run directory are resumed, not rerun.
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: benchmarks/compare.py LABEL [gameon compare options]")
    run_and_save(f"compare-{sys.argv[1]}", sys.argv[2:], gameon=["compare"])
