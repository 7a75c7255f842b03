"""The learner's speed; saves benchmarks/results/learner-speed-DATE.json.

    $ .venv/bin/python benchmarks/learner_speed.py          # gameon bench learner-speed --json
    $ .venv/bin/python benchmarks/learner_speed.py --set learner.batch_size=512

FLOPs per update, updates/s, the matmul peak at the model's sizes and the utilisation, a profile
of an update by part, and the training time until the 16 base skills reach 0.9 from 1,000
bootstrap episodes (20 episodes per skill every 2,000 updates): about 5 minutes on a 2-core CPU
once the bootstrap data exist (`--run-dir` keeps and reuses them).
"""

import sys

from _save import run_and_save

if __name__ == "__main__":
    run_and_save("learner-speed", sys.argv[1:])
