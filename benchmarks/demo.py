"""The demo on seeds 0, 1 and 2; saves benchmarks/results/demo-DATE.json.

    $ .venv/bin/python benchmarks/demo.py --run-dir runs/demo-seeds      # gameon bench demo --json
    $ .venv/bin/python benchmarks/demo.py --run-dir runs/demo-seeds --seeds 0

Each seed is a `gameon demo` run in RUN_DIR/seedN (at most 15 minutes each on a 2-core CPU); a
finished run there is read back, not rerun.
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("demo", sys.argv[1:])
