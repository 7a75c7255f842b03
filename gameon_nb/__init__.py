"""gameon_nb: language models as reinforcement-learning experimenters, in Jupyter.

    >>> import gameon_nb as g
    >>> env = g.make_env()                                   # the table-top stacking domain
    >>> config = g.notebook_config(preset="tiny", rounds=1)  # what the notebooks start with
    >>> exp = g.start_experiment("runs/a", config)           # or g.Experiment("runs/a", config)
    >>> exp.run(); g.show_library("runs/a"); g.write_report("runs/a")

The package follows "Game On: Towards Language Models as RL Experimenters" (Zhang et al., 2024).
Importing it registers the Gymnasium id `GameOnStacking-v0` and does no other work: the names
below that need torch or MuJoCo (the loop, the report, the widgets) are imported on first use.
This is the surface the notebooks and the README use; the widgets' static twins and the domain
tour's helpers are in `gameon_nb.widgets`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium

from gameon_nb.config import ConfigError, RunConfig, SimConfig, override
from gameon_nb.lazy import lazy_names

if TYPE_CHECKING:
    from gameon_nb.experimenter.curves import synthetic_curves
    from gameon_nb.experimenter.evaluation import (
        analyst_agreement,
        judge_agreement,
        library_curves,
    )
    from gameon_nb.loop.compare import compare_curricula
    from gameon_nb.loop.events import EventLog
    from gameon_nb.loop.experiment import Experiment
    from gameon_nb.loop.presets import DEMO, GPU, PRESETS, STUDY, TINY
    from gameon_nb.notebook import (
        choose_backend,
        config_assignments,
        ensure_episodes,
        notebook_config,
        notebook_experimenter,
        start_experiment,
    )
    from gameon_nb.notebook_errors import ParameterError
    from gameon_nb.report import write_report
    from gameon_nb.run.dir import RunDir
    from gameon_nb.sim.env import StackingEnv
    from gameon_nb.widgets import (
        LoopStepper,
        show_cameras,
        show_curves,
        show_frames,
        show_html,
        show_judgement,
        show_library,
        show_rollout,
        show_stepper,
    )

__all__ = [
    "DEMO",
    "ENV_ID",
    "GPU",
    "PRESETS",
    "STUDY",
    "TINY",
    "ConfigError",
    "EventLog",
    "Experiment",
    "LoopStepper",
    "ParameterError",
    "RunConfig",
    "RunDir",
    "SimConfig",
    "analyst_agreement",
    "choose_backend",
    "compare_curricula",
    "config_assignments",
    "ensure_episodes",
    "judge_agreement",
    "library_curves",
    "make_env",
    "notebook_config",
    "notebook_experimenter",
    "override",
    "show_cameras",
    "show_curves",
    "show_frames",
    "show_html",
    "show_judgement",
    "show_library",
    "show_rollout",
    "show_stepper",
    "start_experiment",
    "synthetic_curves",
    "write_report",
]

__version__ = "0.1.0"

ENV_ID = "GameOnStacking-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point="gameon_nb.sim.env:StackingEnv")


def make_env(config: SimConfig | None = None, **kwargs: Any) -> StackingEnv:
    """The stacking env with no wrappers; see `gameon_nb.sim.env.make_env`."""
    from gameon_nb.sim.env import make_env as _make_env

    return _make_env(config, **kwargs)


_LAZY: dict[str, tuple[str, ...]] = {
    "gameon_nb.loop.experiment": ("Experiment",),
    "gameon_nb.run.dir": ("RunDir",),
    "gameon_nb.loop.events": ("EventLog",),
    "gameon_nb.loop.presets": ("DEMO", "GPU", "PRESETS", "STUDY", "TINY"),
    "gameon_nb.loop.compare": ("compare_curricula",),
    "gameon_nb.notebook": (
        "choose_backend",
        "config_assignments",
        "ensure_episodes",
        "notebook_config",
        "notebook_experimenter",
        "start_experiment",
    ),
    "gameon_nb.notebook_errors": ("ParameterError",),
    "gameon_nb.report": ("write_report",),
    "gameon_nb.experimenter.curves": ("synthetic_curves",),
    "gameon_nb.experimenter.evaluation": ("analyst_agreement", "judge_agreement", "library_curves"),
    "gameon_nb.widgets": (
        "LoopStepper",
        "show_cameras",
        "show_curves",
        "show_frames",
        "show_html",
        "show_judgement",
        "show_library",
        "show_rollout",
        "show_stepper",
    ),
}
"""The names imported on first use, by the module that holds them."""

__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
