"""Our learner against d3rlpy's IQL on four base skills; saves benchmarks/results/learner-DATE.json.

    $ .venv/bin/python benchmarks/learner.py                        # the command below, saved
    $ gameon bench learner --json --data-episodes 1000 --budget-updates 6000 --budget-seconds 240
    $ .venv/bin/python benchmarks/learner.py --budget-seconds 300   # options pass through

The skills are `gameon_nb.bench.learner.DEFAULT_SKILLS` (a reach, a grasp, a lift and a hold),
unless `--skill` is given (repeatable). Each side trains 240 s and at least 6,000 updates, then
four policies are evaluated on 50 episodes a skill: 10-15 minutes on a 2-core CPU. The first run
also makes d3rlpy's venv and the 1,000-episode bootstrap data set in the cache (about 4 minutes).
"""

import sys

from _save import run_and_save

DEFAULTS = ["--data-episodes", "1000", "--budget-updates", "6000", "--budget-seconds", "240"]
"""Explicit, so the saved command says them; later options of the same name replace them."""

if __name__ == "__main__":
    run_and_save("learner", [*DEFAULTS, *sys.argv[1:]])
