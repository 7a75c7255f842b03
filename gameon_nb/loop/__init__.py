"""The experiment loop: propose, decompose, retrieve, collect, judge, train, evaluate, analyse,
grow.

>>> from gameon_nb.loop import Experiment
>>> exp = Experiment("runs/a", RunConfig())
>>> exp.step()            # one stage; exp.run() for the whole budget; Experiment.resume(dir)
"""

from gameon_nb.loop.collect import CollectJob, collect
from gameon_nb.loop.curricula import CURRICULA, CurriculumChoice, get_curriculum
from gameon_nb.loop.events import EVENT_TYPES, Event, EventLog
from gameon_nb.loop.experiment import STAGES, Experiment
from gameon_nb.loop.presets import DEMO, PRESETS, STUDY, TINY
from gameon_nb.run.dir import RunDir, RunStateError

__all__ = [
    "CURRICULA",
    "DEMO",
    "EVENT_TYPES",
    "PRESETS",
    "STAGES",
    "STUDY",
    "TINY",
    "CollectJob",
    "CurriculumChoice",
    "Event",
    "EventLog",
    "Experiment",
    "RunDir",
    "RunStateError",
    "collect",
    "get_curriculum",
]
