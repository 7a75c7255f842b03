"""The `scripted` backend: a deterministic, rule-based experimenter that reads privileged state.

    >>> scripted = ScriptedExperimenter(seed=0)
    >>> scripted.decompose("stack the red block on the blue block", library).steps
    ['grasp the red block', 'lift the red block', 'hold the red block above the blue block',
     'open the gripper']
    >>> scripted.judge(ctx, positive="yes", negative="no").answer   # ctx.ground_truth decides

Privileged, and named so: it judges by the ground-truth predicate and reads the scene state and the
library's measured success rates, which a VLM only sees as pictures and numbers. It is the offline
default, the fallback of every VLM decision, and a baseline for them. Proposals follow learning
progress (after Oudeyer et al.'s intrinsically motivated curricula), measured with its noise: a
change in a skill's success rate counts only beyond one standard error of the difference, and
the width of a rate's 95% interval is a bonus, so what is barely measured gets explored. A
composite is proposed once all its steps are reliable; until then the steps it waits on are; a
composite whose task failed waits until one of its steps has improved; a tower waits for its
stacks to be learned, and then is two steps. See the constants below.

`judge_error` (experimenter.scripted_judge_error) makes the backend's judge flip that share of its
verdicts, to measure what an imperfect judge costs a loop that acts on its word.
"""

from __future__ import annotations

import hashlib
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
from gameon_nb.skills.rates import significant_change, wilson_interval
from gameon_nb.skills.retrieval import Embedder, LibraryRetrieval, SkillRetriever
from gameon_nb.skills.skill import Skill
from gameon_nb.streams import PROPOSE, stream

__all__ = ["Rate", "ScriptedExperimenter", "ScriptedInput", "ScriptedVLM"]

READY = 0.6
"""Latest success rate from which a step counts as reliable enough to build a composite on."""
MASTERED = 0.8
"""Lower 95% bound of the latest success rate from which a skill is not worth practising."""
UNCERTAINTY = 0.5
"""Weight of half the width of a skill's 95% interval: what is barely measured is explored."""
COMPOSITE_BONUS = 0.3
"""Added for a composite whose steps are all reliable: the study is after composites."""
PREREQUISITE_BONUS = 0.3
"""Added for an unreliable step that a wanted composite waits on."""
FAILED_BONUS = 0.3
"""Added for the step at which one of the last three tasks failed."""
BLOCKED = 1.0
"""Taken from a composite with an unreliable step, or whose parts (a tower's stacks) are not
learned: practise the parts first."""
WAIT_AFTER_FAILURE = 0.6
"""Taken from a composite whose last task failed, until one of its steps has improved since."""
STALE = 0.25
"""Taken per round of the last three that practised a base skill without measurable progress."""
TARGET_BONUS = 0.1
"""Added for a target itself, so that ties lean toward the goal."""


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

    def __init__(
        self,
        seed: int = 0,
        embedder: Embedder | None = None,
        judge_error: float = 0.0,
        retrieval: LibraryRetrieval | None = None,
    ) -> None:
        if not 0.0 <= judge_error <= 1.0:
            raise ValueError(
                f"experimenter.scripted_judge_error is a fraction in [0, 1], got {judge_error}"
            )
        self.seed = seed
        self.judge_error = judge_error
        self.retrieval = retrieval or LibraryRetrieval(embedder)
        """Retrieval against the library (the experimenter's own, shared with these rules)."""

    def retriever(self, library: SkillLibrary) -> SkillRetriever:
        return self.retrieval.retriever(library)

    def skill_of(self, text: str, library: SkillLibrary) -> Skill | None:
        return self.retrieval.skill_of(text, library)

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
        """Targets, the composites inside them (the stacks of a tower) and their steps."""
        library = ctx.library
        targets = [s for s in ctx.targets if s in library] or library.known()
        pool: dict[str, None] = {}
        for text in targets:
            skill = Skill.from_text(text)
            pool |= dict.fromkeys(_parts(skill))
            pool |= {text: None}
            pool |= dict.fromkeys(self.expand(skill, library))
            for part in _parts(skill):
                pool |= dict.fromkeys(self.expand(Skill.from_text(part), library))
        return list(pool)

    def blockers(self, text: str, library: SkillLibrary) -> tuple[list[str], list[str]]:
        """(steps below READY or not measured, parts not learned) of a composite skill."""
        skill = Skill.from_text(text)
        if skill.kind != "composite":
            return [], []
        steps = [s for s in self.expand(skill, library) if s != text]
        weak = [s for s in steps if (r := library[s].latest_success) is None or r < READY]
        parts = [p for p in _parts(skill) if library[p].status == "candidate"]
        return weak, parts

    def _score(
        self, text: str, ctx: ProposalContext, wanted_by: dict[str, str], failed: set[str]
    ) -> tuple[float, str]:
        library, history = ctx.library, ctx.entries()
        rate = Rate.of(library, text)
        score = abs(rate.change) + UNCERTAINTY * (rate.high - rate.low) / 2
        notes = [rate.describe()]
        if library[text].status == "learned" or rate.low >= MASTERED:
            score, notes = score - 1.0, [*notes, "mastered"]
        if text in failed:
            score, notes = score + FAILED_BONUS, [*notes, "a recent task failed here"]
        if text in wanted_by:
            score, notes = score + PREREQUISITE_BONUS, [*notes, f"'{wanted_by[text]}' waits on it"]
        if text in ctx.targets:
            score, notes = score + TARGET_BONUS, [*notes, "a target"]
        composite = Skill.from_text(text).kind == "composite"
        practised = sum(text in (h.task_skill, h.task) for h in history[-3:])
        if practised and rate.change <= 0 and not composite:  # composites wait below instead
            score, notes = score - STALE * practised, [*notes, f"practised {practised}x lately"]
        weak, parts = self.blockers(text, library)
        if weak or parts:
            why = f"step '{weak[0]}' unreliable" if weak else f"'{parts[0]}' not learned"
            return score - BLOCKED, ", ".join([*notes, why])
        if composite and library[text].status == "candidate":
            score, notes = score + COMPOSITE_BONUS, [*notes, "its steps are reliable"]
            last = next((h for h in reversed(history) if h.task_skill == text), None)
            if last is not None and (last.task_success or 0.0) < 0.5:
                steps = [s for s in self.expand(Skill.from_text(text), library) if s != text]
                if not any(Rate.of(library, s, since=last.round).change > 0 for s in steps):
                    score -= WAIT_AFTER_FAILURE
                    notes.append(f"failed in round {last.round}; no step has improved since")
                else:
                    notes.append(f"failed in round {last.round}; a step has improved since")
        return score, ", ".join(notes)

    def propose(self, ctx: ProposalContext) -> ProposalReply:
        state, library = ctx.scene_state, ctx.library
        pool = [t for t in self._pool(ctx) if not _holds(t, state)] or self._pool(ctx)
        failed = {h.failed_at for h in ctx.entries()[-3:] if h.failed_at}
        wanted_by: dict[str, str] = {}
        for text in pool:
            weak, parts = self.blockers(text, library)
            if weak and not parts and library[text].status == "candidate":
                wanted_by |= {w: text for w in weak if w not in wanted_by}
        scored = {t: self._score(t, ctx, wanted_by, failed) for t in pool}
        # ties go by a permutation drawn from (seed, round): reproducible, yet not always the
        # first skill in library order
        order = stream(self.seed, ctx.round, PROPOSE).permutation(len(pool))
        best = max(order, key=lambda i: scored[pool[i]][0])
        task = pool[best]
        score, notes = scored[task]
        return ProposalReply(reasoning=f"Highest score {score:.2f}: {notes}.", task=task)

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
            reply = self.judge(ctx, given.positive, given.negative)
            if self.judge_error and self._errs(ctx):  # the backend errs; the fallback never does
                wrong = given.negative if reply.answer == given.positive else given.positive
                return JudgeReply(reasoning=f"{reply.reasoning} (flipped)", answer=wrong)
            return reply
        return self.analyse(ctx)

    def _errs(self, ctx: JudgeContext) -> bool:
        """Whether this verdict is one of the `judge_error` share flipped: a hash of the seed,
        the skill and the frames, so the same request always gets the same answer."""
        digest = hashlib.blake2b(f"{self.seed}:{ctx.skill}".encode(), digest_size=8)
        for frame in ctx.frames:
            digest.update(np.ascontiguousarray(frame).tobytes())
        return int.from_bytes(digest.digest(), "little") / 2**64 < self.judge_error


@dataclass(frozen=True)
class Rate:
    """A skill's latest measured success with its 95% interval, and its change beyond noise."""

    rate: float | None
    episodes: int
    low: float
    high: float
    change: float
    """Significant change from the evaluation before (or from the last one up to `since`)."""

    @classmethod
    def of(cls, library: SkillLibrary, text: str, since: int | None = None) -> Rate:
        curve = library[text].success
        if not curve:
            return cls(None, 0, 0.0, 1.0, 0.0)
        last = curve[-1]
        rate, n = float(last["rate"]), int(last["episodes"])
        low, high = wilson_interval(round(rate * n), n)
        earlier = curve[:-1] if since is None else [p for p in curve if p["round"] <= since]
        change = 0.0
        if earlier and earlier[-1] is not last:
            before = earlier[-1]
            change = significant_change(float(before["rate"]), int(before["episodes"]), rate, n)
        return cls(rate, n, low, high, change)

    def describe(self) -> str:
        if self.rate is None:
            return "not measured"
        return (
            f"success {self.rate:.2f} [{self.low:.2f}, {self.high:.2f}] over {self.episodes}, "
            f"progress {self.change:+.2f}"
        )


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
