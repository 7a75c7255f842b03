"""How the learner's cost grows; saves benchmarks/results/scaling-DATE.json and scaling.svg.

    $ .venv/bin/python benchmarks/scaling.py --run-dir runs/scaling   # gameon bench scaling --json

Updates/s, load time and time until the 16 base skills reach 0.9 at 300, 1,000 and 3,000
bootstrap episodes (hidden 128) and at hidden 128, 256 and 512 (1,000 episodes), and the train
stage of a loop round against the episodes stored: about 40 minutes on a 2-core CPU, most of it
bootstrapping 3,000 episodes the first time (`--run-dir` keeps and reuses them).
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("scaling", sys.argv[1:])
