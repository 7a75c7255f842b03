"""The language-conditioned offline actor-critic (after PAC): model, losses, trainer, evaluation.

>>> from gameon_nb.learner import Learner, evaluate_skills
>>> learner = Learner(RunConfig().learner, seed=0)
>>> learner.set_data(TransitionData.from_store(store, library.known())); learner.fit(1000)
"""

from gameon_nb.learner.evaluate import evaluate_skills, wilson_interval
from gameon_nb.learner.model import ActorCritic, tokenize, vocabulary
from gameon_nb.learner.trainer import CheckpointError, Learner, pick_device

__all__ = [
    "ActorCritic",
    "CheckpointError",
    "Learner",
    "evaluate_skills",
    "pick_device",
    "tokenize",
    "vocabulary",
    "wilson_interval",
]
