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

`LoopStepper` drives an `Experiment`, so it and its helpers load on first use: importing this
package does not import torch. The domain tour's helpers are in `gameon_nb.widgets.domain`, the
static reports of curricula comparisons and judge/analyst agreement in
`gameon_nb.widgets.evaluation`.
"""

from typing import TYPE_CHECKING, Any

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
from gameon_nb.widgets.verdicts import Judgement, as_judgement

if TYPE_CHECKING:
    from gameon_nb.widgets.stepper import LoopStepper, show_stepper, stepper_html

_LAZY = {"LoopStepper", "show_stepper", "stepper_html"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from gameon_nb.widgets import stepper

        return getattr(stepper, name)
    raise AttributeError(f"module 'gameon_nb.widgets' has no attribute {name!r}")


__all__ = [
    "EmptyEpisodeError",
    "Judgement",
    "JudgementCard",
    "LearningCurves",
    "LoopStepper",
    "RolloutViewer",
    "SkillLibraryView",
    "UnknownCameraError",
    "as_judgement",
    "curves_html",
    "judgement_html",
    "library_html",
    "notebook_html",
    "rollout_html",
    "show_curves",
    "show_judgement",
    "show_library",
    "show_rollout",
    "show_stepper",
    "stepper_html",
]
