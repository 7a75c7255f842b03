"""The learning figure; saves benchmarks/results/learning-DATE.json.

    $ .venv/bin/python benchmarks/learning.py            # gameon bench learning --json
    $ .venv/bin/python benchmarks/learning.py --minutes 5 --data-episodes 300

Bootstraps 1,000 scripted episodes (state only), trains the default learner for 15 minutes of
wall time, then evaluates every base skill over 50 episodes: about 20 minutes on a 2-core CPU.
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("learning", sys.argv[1:])
