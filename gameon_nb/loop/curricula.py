"""Curricula: who chooses each round's task. The experimenter, or a baseline with the same budget.

    >>> curriculum = get_curriculum("random")
    >>> choice = curriculum(experiment, round=3)    # CurriculumChoice(task, steps or None, ...)

`experimenter` asks the configured proposer (a VLM, or the scripted learning-progress rules);
`random` chains 1-4 random library skills (its steps are the chain, no decomposer call); `fixed`
cycles a hand-written schedule; `target` cycles the target skills. All but `random` are then
decomposed by the configured decomposer, so the comparison isolates the choice of task. `none`
is the offline-only baseline: no task and no collection, the round's updates on the data so far,
so a comparison shows what the loop adds over training longer on the bootstrap data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gameon_nb.loop.experiment import Experiment

__all__ = ["CURRICULA", "CurriculumChoice", "UnknownCurriculumError", "get_curriculum"]


class UnknownCurriculumError(KeyError):
    """A curriculum name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class CurriculumChoice:
    """A task, and its steps when the curriculum fixes them itself."""

    task: str
    reasoning: str
    backend: str
    steps: list[str] | None = None
    fallback: bool = False
    calls: list[str] = field(default_factory=list)


Curriculum = Callable[["Experiment", int], CurriculumChoice]


def experimenter(exp: Experiment, round: int) -> CurriculumChoice:
    proposal = exp.experimenter.propose_task(exp.proposal_context(round))
    return CurriculumChoice(
        proposal.task, proposal.reasoning, proposal.backend, None, proposal.fallback, proposal.calls
    )


def random_chain(exp: Experiment, round: int) -> CurriculumChoice:
    rng = np.random.default_rng([exp.config.seed, round, 0x7A2D])
    available = exp.library.available()
    chain = [available[i] for i in rng.integers(len(available), size=rng.integers(1, 5))]
    return CurriculumChoice("; ".join(chain), "a random chain of library skills", "random", chain)


def fixed(exp: Experiment, round: int) -> CurriculumChoice:
    schedule = exp.config.loop.fixed_schedule
    if not schedule:
        raise ValueError("the 'fixed' curriculum needs loop.fixed_schedule")
    task = schedule[(round - 1) % len(schedule)]
    return CurriculumChoice(
        task, f"entry {(round - 1) % len(schedule) + 1} of the schedule", "fixed"
    )


def target(exp: Experiment, round: int) -> CurriculumChoice:
    targets = exp.config.loop.targets
    if not targets:
        raise ValueError("the 'target' curriculum needs loop.targets")
    task = targets[(round - 1) % len(targets)]
    return CurriculumChoice(task, "the targets in turn", "target")


def offline(exp: Experiment, round: int) -> CurriculumChoice:
    return CurriculumChoice("", "offline-only baseline: no task, no collection", "none", [])


CURRICULA: dict[str, Curriculum] = {
    "experimenter": experimenter,
    "random": random_chain,
    "fixed": fixed,
    "target": target,
    "none": offline,
}


def get_curriculum(name: str) -> Curriculum:
    """A curriculum by name; an unknown name lists the known ones."""
    try:
        return CURRICULA[name]
    except KeyError:
        raise UnknownCurriculumError(
            f"unknown curriculum {name!r}; known: {sorted(CURRICULA)}"
        ) from None
