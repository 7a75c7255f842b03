"""Curricula: who chooses each round's task. The experimenter, or a baseline with the same budget.

    >>> curriculum = get_curriculum("random")
    >>> choice = curriculum(experiment.curriculum_context())   # CurriculumChoice(task, steps, ...)

A curriculum reads a `CurriculumContext`: the round, the seed, the loop's settings, the library,
the experimenter, and the proposal context (scene, library, history) built on demand. To add one,
write a function of a context returning a `CurriculumChoice`, register it in `CURRICULA` and add
its name to `LoopConfig.curriculum`'s options (a test keeps the two in step).

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

from gameon_nb.streams import RANDOM_CHAIN, stream

if TYPE_CHECKING:
    from gameon_nb.config import LoopConfig
    from gameon_nb.experimenter import Experimenter, ProposalContext
    from gameon_nb.skills.library import SkillLibrary

__all__ = [
    "CURRICULA",
    "CurriculumChoice",
    "CurriculumContext",
    "UnknownCurriculumError",
    "get_curriculum",
]


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


@dataclass(frozen=True)
class CurriculumContext:
    """What a curriculum may read to choose a round's task."""

    round: int
    seed: int
    loop: LoopConfig
    library: SkillLibrary
    experimenter: Experimenter
    proposal: Callable[[], ProposalContext]
    """The scene, library and history the proposer sees (renders the scene when called)."""


Curriculum = Callable[[CurriculumContext], CurriculumChoice]


def experimenter(ctx: CurriculumContext) -> CurriculumChoice:
    proposal = ctx.experimenter.propose_task(ctx.proposal())
    return CurriculumChoice(
        proposal.task, proposal.reasoning, proposal.backend, None, proposal.fallback, proposal.calls
    )


def random_chain(ctx: CurriculumContext) -> CurriculumChoice:
    rng = stream(ctx.seed, ctx.round, RANDOM_CHAIN)
    available = ctx.library.available()
    chain = [available[i] for i in rng.integers(len(available), size=rng.integers(1, 5))]
    return CurriculumChoice("; ".join(chain), "a random chain of library skills", "random", chain)


def fixed(ctx: CurriculumContext) -> CurriculumChoice:
    schedule, round = ctx.loop.fixed_schedule, ctx.round
    if not schedule:
        raise ValueError("the 'fixed' curriculum needs loop.fixed_schedule")
    task = schedule[(round - 1) % len(schedule)]
    return CurriculumChoice(
        task, f"entry {(round - 1) % len(schedule) + 1} of the schedule", "fixed"
    )


def target(ctx: CurriculumContext) -> CurriculumChoice:
    targets, round = ctx.loop.targets, ctx.round
    if not targets:
        raise ValueError("the 'target' curriculum needs loop.targets")
    task = targets[(round - 1) % len(targets)]
    return CurriculumChoice(task, "the targets in turn", "target")


def offline(ctx: CurriculumContext) -> CurriculumChoice:
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
