"""Our learner against d3rlpy's IQL on one skill; saves benchmarks/results/learner-DATE.json.

    $ .venv/bin/python benchmarks/learner.py                        # gameon bench learner --json
    $ .venv/bin/python benchmarks/learner.py --budget-seconds 300   # options pass through

The first run makes d3rlpy's venv and a bootstrap data set in the cache (a few minutes).
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("learner", sys.argv[1:])
