"""Collection throughput in process and on Ray; saves benchmarks/results/collect-DATE.json.

    $ .venv/bin/python benchmarks/collect.py              # `gameon bench collect --json`
    $ .venv/bin/python benchmarks/collect.py --episodes 32

Episodes per second in this process, on one Ray collector and on two, two trials each: about
4 minutes on a quiet 2-core CPU at the default 64 episodes (run nothing else heavy meanwhile).
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("collect", sys.argv[1:])
