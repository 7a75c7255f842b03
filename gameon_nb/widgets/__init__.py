"""Notebook widgets, each with a pure static twin that returns self-contained HTML.

    >>> from gameon_nb.widgets import RolloutViewer, show_library, rollout_html
    >>> RolloutViewer((run_dir, 3), verdicts=[True, False])     # plays an episode's frames
    >>> html = rollout_html((run_dir, 3))                        # the same without a kernel

| widget              | static twin       | show helper        |
|---------------------|-------------------|--------------------|
| `RolloutViewer`     | `rollout_html`    | `show_rollout`     |
| `JudgementCard`     | `judgement_html`  | `show_judgement`   |
| `SkillLibraryView`  | `library_html`    | `show_library`     |
| `LearningCurves`    | `curves_html`     | `show_curves`      |
| `LoopStepper`       | `stepper_html`    | `show_stepper`     |

Every widget's display carries its twin as `text/html`, so an executed notebook exported by
`notebook_html` (nbconvert, widget views dropped for their twins), or opened untrusted, still
shows frames, verdicts and curves. Widgets read from the
run directory, the store or the library and never hold the only copy of anything. Front ends
are plain ESM and CSS files in `widgets/` (packaged as `gameon_nb/_widgets`).

The domain tour's helpers (`show_cameras`, `show_frames`, `observation_table`, `action_table`,
`drive`, `predicate_table`, `scripted_episode`) and the static reports of curricula comparisons
and judge/analyst agreement (`comparison_html`, `agreement_html`, `analyst_html`,
`curves_gallery_html`, `judge_examples_html`, shown with `show_html`) are here too. They, and
`LoopStepper`, which drives an `Experiment`, load on first use: importing this package does not
import torch.
"""

from typing import TYPE_CHECKING

from gameon_nb.lazy import lazy_names
from gameon_nb.widgets.curves import LearningCurves, curves_html, show_curves
from gameon_nb.widgets.judgement import JudgementCard, judgement_html, show_judgement
from gameon_nb.widgets.library_view import SkillLibraryView, library_html, show_library
from gameon_nb.widgets.report import notebook_html
from gameon_nb.widgets.rollout import (
    EmptyEpisodeError,
    RolloutViewer,
    UnknownCameraError,
    rollout_html,
    show_rollout,
)
from gameon_nb.widgets.verdicts import Judgement, as_judgement, episode_verdicts

if TYPE_CHECKING:
    from gameon_nb.widgets.domain import (
        action_table,
        drive,
        observation_table,
        predicate_table,
        scripted_episode,
        show_cameras,
        show_frames,
    )
    from gameon_nb.widgets.evaluation import (
        agreement_html,
        analyst_html,
        comparison_html,
        curves_gallery_html,
        judge_examples_html,
        show_html,
    )
    from gameon_nb.widgets.stepper import LoopStepper, show_stepper, stepper_html

_LAZY: dict[str, tuple[str, ...]] = {
    "gameon_nb.widgets.stepper": ("LoopStepper", "show_stepper", "stepper_html"),
    "gameon_nb.widgets.domain": (
        "action_table",
        "drive",
        "observation_table",
        "predicate_table",
        "scripted_episode",
        "show_cameras",
        "show_frames",
    ),
    "gameon_nb.widgets.evaluation": (
        "agreement_html",
        "analyst_html",
        "comparison_html",
        "curves_gallery_html",
        "judge_examples_html",
        "show_html",
    ),
}
"""The names imported on first use (they import torch or the simulator), by module."""

__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "EmptyEpisodeError",
    "Judgement",
    "JudgementCard",
    "LearningCurves",
    "LoopStepper",
    "RolloutViewer",
    "SkillLibraryView",
    "UnknownCameraError",
    "action_table",
    "agreement_html",
    "analyst_html",
    "as_judgement",
    "comparison_html",
    "curves_gallery_html",
    "curves_html",
    "drive",
    "episode_verdicts",
    "judge_examples_html",
    "judgement_html",
    "library_html",
    "notebook_html",
    "observation_table",
    "predicate_table",
    "rollout_html",
    "scripted_episode",
    "show_cameras",
    "show_curves",
    "show_frames",
    "show_html",
    "show_judgement",
    "show_library",
    "show_rollout",
    "show_stepper",
    "stepper_html",
]
