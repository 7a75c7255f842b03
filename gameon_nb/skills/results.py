"""`SkillResult`: one skill's evaluated success, as the loop writes and every reader reads it.

    >>> results = evaluate_skills(policy, ["lift the red block"], SimConfig(), episodes=50)
    >>> results["lift the red block"]["success"], results["lift the red block"]["ci95"]
    >>> RunDir("runs/a").latest_evaluation()      # skill -> SkillResult, from evaluations/

Typed dicts, so evaluations/round-NNN.json and the events keep their plain JSON form.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

__all__ = ["GrowthEvidence", "SeenEpisode", "SkillResult"]


class SeenEpisode(TypedDict):
    """What a judge is shown of one evaluation episode: its first and last view frames."""

    frames: list[npt.NDArray[np.uint8]]
    truth: bool


class GrowthEvidence(TypedDict):
    """The judge's verdicts on a candidate's evaluation episodes (the loop's growth evidence)."""

    success: float
    episodes: int
    fallbacks: int
    """Verdicts the scripted fallback gave in the backend's place."""
    agree: int
    """The backend's own verdicts that equal the ground truth."""


class SkillResult(TypedDict):
    """One skill's evaluation, as written to evaluation/round-NNN.json."""

    success: float
    successes: int
    episodes: int
    ci95: list[float]
    """Wilson 95% interval of the success rate: [low, high]."""
    screened: NotRequired[bool]
    """A candidate screened on a few episodes and not found promising (the loop adds it)."""
    judge: NotRequired[GrowthEvidence]
    views: NotRequired[list[SeenEpisode]]
    """In memory only, for skills in `views`: popped before the result is written."""
