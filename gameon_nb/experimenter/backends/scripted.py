"""The `scripted` backend: a deterministic, rule-based experimenter that reads privileged state.

    >>> scripted = ScriptedExperimenter(seed=0)
    >>> scripted.decompose("stack the red block on the blue block", library).steps
    ['grasp the red block', 'lift the red block', 'hold the red block above the blue block',
     'open the gripper']
    >>> scripted.judge(ctx, positive="yes", negative="no").answer   # ctx.ground_truth decides

Privileged, and named so: it judges by the ground-truth predicate and reads the scene state and the
library's measured success rates, which a VLM only sees as pictures and numbers. It is the offline
default, the fallback of every VLM decision, and a baseline for them. Proposals follow learning
progress (after Oudeyer et al.'s intrinsically motivated curricula): the largest recent change in
a skill's success rate, plus a bonus for skills not yet measured and for where recent tasks failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from gameon_nb.experimenter.contexts import (
    CurveContext,
    DecompositionContext,
    JudgeContext,
    ProposalContext,
)
from gameon_nb.experimenter.curves import label_curve
from gameon_nb.experimenter.protocol import VLMRequest, VLMResponse
from gameon_nb.experimenter.schemas import (
    DecompositionReply,
    JudgeReply,
    ProgressReply,
    ProposalReply,
    Reply,
)
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.library import SkillLibrary
from gameon_nb.skills.retrieval import Embedder, SkillRetriever
from gameon_nb.skills.skill import Skill, UnknownSkillError

__all__ = ["ScriptedExperimenter", "ScriptedInput", "ScriptedVLM"]

MASTERED = 0.9
"""Latest success rate from which a skill is not worth proposing again."""
NOVELTY = 0.5
"""Score of a skill with fewer than two evaluations (its progress is unknown)."""
FAILED_BONUS = 0.3
"""Added for a skill that one of the last three rounds failed at."""
TARGET_BONUS = 0.1
"""Added for a target itself, so that ties lean toward the goal."""
UNREADY_PENALTY = 0.5
"""Taken from a composite whose steps include one measured below UNREADY_RATE, or whose parts
(the stacks of a tower) are not learned yet: practise the parts first."""
UNREADY_RATE = 0.3


@dataclass(frozen=True)
class ScriptedInput:
    """The privileged part of a request, for the scripted backend only."""

    context: ProposalContext | DecompositionContext | JudgeContext | CurveContext
    task: str = ""
    """The task to decompose (decomposer)."""
    positive: str = "yes"
    """The answer word that means success (judge)."""
    negative: str = "no"


class ScriptedExperimenter:
    """The rules; see the module docstring."""

    def __init__(self, seed: int = 0, embedder: Embedder | None = None) -> None:
        self.seed = seed
        self._embedder = embedder
        self._retrievers: dict[frozenset[str], SkillRetriever] = {}

    def retriever(self, library: SkillLibrary) -> SkillRetriever:
        """Retrieval over the library's known skills (built once per set of skills)."""
        known = frozenset(library.known())
        if known not in self._retrievers:
            self._retrievers[known] = SkillRetriever(known, embedder=self._embedder)
        return self._retrievers[known]

    def skill_of(self, text: str, library: SkillLibrary) -> Skill | None:
        """The known skill a text names: canonical text directly, else by retrieval."""
        try:
            return Skill.from_text(text)
        except UnknownSkillError:
            found = self.retriever(library).retrieve(text).skill
            return None if found is None else Skill.from_text(found)

    # -- decompose -----------------------------------------------------------------------------

    def expand(self, skill: Skill, library: SkillLibrary) -> list[str]:
        """Steps that carry out `skill` with what the library has.

        Base and learned skills are one step. A stack is grasp, lift, hold above, open: released
        over the lower block, the held block drops onto it (checked with the scripted controllers
        in the tests). A tower is two stacks, bottom first. Put-next-to has no base-skill
        sequence, so it stays one step: the candidate skill itself, to be learned.
        """
        if library[skill.text].status != "candidate":
            return [skill.text]
        if skill.template == "stack":
            top, bottom = skill.colours
            return [
                f"grasp the {top} block",
                f"lift the {top} block",
                f"hold the {top} block above the {bottom} block",
                "open the gripper",
            ]
        if skill.template == "tower":
            top, middle, bottom = skill.colours
            first = Skill("stack", (middle, bottom))
            second = Skill("stack", (top, middle))
            return self.expand(first, library) + self.expand(second, library)
        return [skill.text]

    def decompose(self, task: str, library: SkillLibrary) -> DecompositionReply:
        skill = self.skill_of(task, library)
        if skill is None:
            return DecompositionReply(
                reasoning="No known skill matches the task; it stays one step (a missing skill).",
                steps=[task],
            )
        steps = self.expand(skill, library)
        status = library[skill.text].status
        if len(steps) == 1:
            why = f"'{skill.text}' is a {status} skill: one step."
        else:
            why = f"'{skill.text}' is still a candidate; it is built from {len(steps)} steps."
        return DecompositionReply(reasoning=why, steps=steps)

    # -- propose -------------------------------------------------------------------------------

    def _pool(self, ctx: ProposalContext) -> list[str]:
        """Targets, the composites inside them (the stacks of a tower) and their base steps."""
        library = ctx.library
        targets = [s for s in ctx.targets if s in library] or library.known()
        pool: dict[str, None] = {}
        for text in targets:
            skill = Skill.from_text(text)
            pool |= dict.fromkeys(_parts(skill))
            pool |= {text: None}
            pool |= dict.fromkeys(self.expand(skill, library))
        return list(pool)

    def _score(self, text: str, ctx: ProposalContext, failed: set[str]) -> tuple[float, str]:
        library = ctx.library
        rates = [float(p["rate"]) for p in library[text].success]
        progress = abs(rates[-1] - rates[-2]) if len(rates) >= 2 else 0.0
        score, notes = progress, [f"progress {progress:.2f}"]
        if len(rates) < 2:
            score, notes = score + NOVELTY, [*notes, "barely measured"]
        if rates and rates[-1] >= MASTERED:
            score, notes = score - 1.0, [*notes, f"mastered at {rates[-1]:.2f}"]
        if text in failed:
            score, notes = score + FAILED_BONUS, [*notes, "a recent task failed here"]
        if text in ctx.targets:
            score, notes = score + TARGET_BONUS, [*notes, "a target"]
        skill = Skill.from_text(text)
        if skill.kind == "composite":
            weak = [
                s
                for s in self.expand(skill, library)
                if s != text and (r := library[s].latest_success) is not None and r < UNREADY_RATE
            ]
            if weak:
                score, notes = score - UNREADY_PENALTY, [*notes, f"weak step '{weak[0]}'"]
            parts = [s for s in _parts(skill) if library[s].status == "candidate"]
            if parts:
                score, notes = score - UNREADY_PENALTY, [*notes, f"'{parts[0]}' not learned"]
        return score, ", ".join(notes)

    def propose(self, ctx: ProposalContext) -> ProposalReply:
        state = ctx.scene_state
        pool = [t for t in self._pool(ctx) if not _holds(t, state)] or self._pool(ctx)
        failed = {h.failed_at for h in ctx.entries()[-3:] if h.failed_at}
        scored = {t: self._score(t, ctx, failed) for t in pool}
        # ties go by a permutation drawn from (seed, round): reproducible, yet not always the
        # first skill in library order
        order = np.random.default_rng([self.seed, ctx.round, 0x9120]).permutation(len(pool))
        best = max(order, key=lambda i: scored[pool[i]][0])
        task = pool[best]
        score, notes = scored[task]
        return ProposalReply(
            reasoning=f"Highest learning-progress score {score:.2f}: {notes}.", task=task
        )

    # -- judge and analyse ---------------------------------------------------------------------

    def judge(self, ctx: JudgeContext, positive: str = "yes", negative: str = "no") -> JudgeReply:
        if ctx.ground_truth is None:
            raise ValueError(
                "the scripted judge reads the ground truth: pass JudgeContext(ground_truth=...)"
            )
        outcome = "holds" if ctx.ground_truth else "does not hold"
        return JudgeReply(
            reasoning=f"The predicate of '{ctx.skill}' {outcome} at the end (privileged).",
            answer=positive if ctx.ground_truth else negative,
        )

    def analyse(self, ctx: CurveContext) -> ProgressReply:
        label = label_curve(ctx.curve, ctx.threshold)
        return ProgressReply(
            reasoning=f"By rule: {label.reason}.",
            learned=label.learned,
            converged=label.converged,
            add_to_library=label.add_to_library,
            keep_training=label.keep_training,
        )

    def decide(self, request: VLMRequest) -> Reply:
        """The scripted reply to a request, from its privileged input."""
        given = request.privileged
        if not isinstance(given, ScriptedInput):
            raise TypeError(f"the scripted backend needs a ScriptedInput, got {type(given)}")
        ctx = given.context
        if isinstance(ctx, ProposalContext):
            return self.propose(ctx)
        if isinstance(ctx, DecompositionContext):
            return self.decompose(given.task, ctx.library)
        if isinstance(ctx, JudgeContext):
            return self.judge(ctx, given.positive, given.negative)
        return self.analyse(ctx)


def _parts(skill: Skill) -> list[str]:
    """The composite skills a composite is made of: a tower's two stacks, bottom first."""
    if skill.template != "tower":
        return []
    top, middle, bottom = skill.colours
    return [Skill("stack", (middle, bottom)).text, Skill("stack", (top, middle)).text]


def _holds(text: str, state: SceneState) -> bool:
    """The skill's predicate already holds in the scene (nothing to practise)."""
    return bool(Skill.from_text(text).success(state))


class ScriptedVLM:
    """The scripted experimenter behind the `VLM` protocol, so it is logged and replayable."""

    name = "scripted"
    model = "scripted"
    cacheable = False  # its answers depend on privileged state that is not in the request

    def __init__(self, rules: ScriptedExperimenter) -> None:
        self.rules = rules

    def __repr__(self) -> str:
        return f"ScriptedVLM(seed={self.rules.seed})"

    def secrets(self) -> tuple[str, ...]:
        return ()

    def generate(self, request: VLMRequest) -> VLMResponse:
        reply = self.rules.decide(request)
        return VLMResponse(text=json.dumps(reply.model_dump(mode="json")), model=self.model)
