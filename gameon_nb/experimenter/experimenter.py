"""`Experimenter`: the loop-facing calls (propose, decompose, judge, analyse), backends per role.

    >>> exp = Experimenter(config.experimenter, run_dir, seed=config.seed)
    >>> proposal = exp.propose_task(ProposalContext(scene_image, scene_state, library, round=3))
    >>> plan = exp.decompose_task(proposal.task, DecompositionContext(image, state, library))
    >>> exp.judge_success(JudgeContext(skill, frames, ground_truth=True)).success

Each call renders its prompt, asks the role's backend through the ledger, checks the reply (schema,
skills, objects in the scene), asks once more with a repair prompt if the reply is unusable, and
otherwise falls back to the scripted decision and says so. These calls never raise for a VLM's
faults; they raise for configuration faults (no key, a refused key, a replay miss) and for bugs.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from gameon_nb.config import ExperimenterConfig, RoleConfig
from gameon_nb.experimenter.backends import BackendSpec, default_model, make_backend
from gameon_nb.experimenter.backends.scripted import (
    ScriptedExperimenter,
    ScriptedInput,
    ScriptedVLM,
)
from gameon_nb.experimenter.contexts import (
    CurveContext,
    DecompositionContext,
    HistoryEntry,
    Image,
    JudgeContext,
    ProposalContext,
)
from gameon_nb.experimenter.decisions import Decomposition, ProgressVerdict, Proposal, Verdict
from gameon_nb.experimenter.errors import VLMError, VLMResponseError
from gameon_nb.experimenter.images import curve_png, to_png
from gameon_nb.experimenter.ledger import Ledger, Usage
from gameon_nb.experimenter.prompt import render_prompt
from gameon_nb.experimenter.protocol import VLM, Role, VLMRequest, sha256
from gameon_nb.experimenter.schemas import (
    DecompositionReply,
    JudgeReply,
    ProgressReply,
    ProposalReply,
    Reply,
    parse_reply,
)
from gameon_nb.sim.scene import COLOURS
from gameon_nb.skills.library import SkillLibrary
from gameon_nb.skills.rates import wilson_interval
from gameon_nb.skills.retrieval import Embedder, LibraryRetrieval, SkillRetriever, parse_colours
from gameon_nb.skills.skill import Skill

__all__ = ["JUDGE_OPTIONS", "Experimenter"]

R = TypeVar("R", bound=Reply)

JUDGE_OPTIONS: tuple[tuple[str, str], ...] = (("yes", "no"), ("success", "failure"))
"""Answer pairs of the judge, (means success, means failure); pair and order are drawn per
segment, so a model's bias toward the first or a particular word shows as disagreement."""
HISTORY_SHOWN = 8
"""Latest rounds shown to the proposer."""
CURVE_SHOWN = 10
"""Latest evaluations written out for the analyst (the plot shows them all)."""
MAX_STEPS = 12
"""Longest decomposition accepted from a VLM."""
MAX_OUTPUT_TOKENS = 2048
"""Output tokens a reply may use, thinking included; also the budget check's worst case."""


class Experimenter:
    """The experimenter of one run; see the module docstring."""

    def __init__(
        self,
        config: ExperimenterConfig,
        run_dir: Path,
        seed: int = 0,
        *,
        embedder: Embedder | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.seed = seed
        self.ledger = Ledger(self.run_dir, config, seed, sleep)
        self.retrieval = LibraryRetrieval(embedder)
        """Retrieval against the library, for the loop, the checks of replies and the rules."""
        self.scripted = ScriptedExperimenter(
            seed, embedder, config.scripted_judge_error, retrieval=self.retrieval
        )
        self._embedder = embedder
        self._backends: dict[tuple[str, str], VLM] = {}

    def __repr__(self) -> str:
        roles = {r: self.role_config(r)[0] for r in ("proposer", "decomposer", "judge", "analyst")}
        return f"Experimenter({str(self.run_dir)!r}, {roles})"

    # -- backends ------------------------------------------------------------------------------

    def role_config(self, role: Role) -> tuple[str, str, float]:
        """(backend, model, temperature) of a role, its own settings over the defaults."""
        own: RoleConfig = getattr(self.config, role)
        backend = own.backend or self.config.backend
        model = own.model or default_model(backend, self.config)
        temperature = own.temperature if own.temperature >= 0 else self.config.temperature
        return backend, model, temperature

    def backend(self, role: Role) -> VLM:
        """The role's backend, built on first use (roles with the same backend and model share)."""
        name, model, _ = self.role_config(role)
        if (name, model) not in self._backends:
            if name == "scripted":
                # the fallback rules and the scripted backend are one object: one retriever
                self._backends[name, model] = ScriptedVLM(self.scripted)
            else:
                spec = BackendSpec(self.config, model, self.seed, self._embedder)
                self._backends[name, model] = make_backend(name, spec)
        return self._backends[name, model]

    def retriever(self, library: SkillLibrary) -> SkillRetriever:
        """Retrieval of free text against the library's known skills."""
        return self.retrieval.retriever(library)

    def skill_of(self, text: str, library: SkillLibrary) -> Skill | None:
        """The known skill a text names (canonical, else retrieved), or None."""
        return self.retrieval.skill_of(text, library)

    def usage(self) -> Usage:
        """Calls, cache hits, tokens, cost, budget, errors and fallbacks, in total and by role."""
        return self.ledger.usage()

    # -- the four decisions --------------------------------------------------------------------

    def propose_task(self, ctx: ProposalContext) -> Proposal:
        """The next task, in words, from the scene, the library and the history."""
        prompt = render_prompt(
            "propose",
            targets=", ".join(f'"{t}"' for t in ctx.targets) or "every skill in the library",
            library=_library_lines(ctx.library),
            history=_history_lines(ctx.entries()),
            round=ctx.round,
        )

        def check(reply: ProposalReply) -> ProposalReply:
            task = " ".join(reply.task.split())
            _check_objects([task])
            found = self.retriever(ctx.library).retrieve(task)
            if found.skill is None:
                raise VLMResponseError(
                    f"the task {task!r} matches no skill the robot can learn ({found.reason}); "
                    "propose one of the library's skills, or a task built from them",
                    "unknown_skill",
                )
            return reply.model_copy(update={"task": task})

        reply, backend, fallback, calls = self._decide(
            "proposer",
            prompt,
            _images(ctx.scene_image),
            ProposalReply,
            check,
            ScriptedInput(ctx),
            lambda: self.scripted.propose(ctx),
        )
        return Proposal(
            task=reply.task,
            reasoning=reply.reasoning,
            backend=backend,
            fallback=fallback,
            calls=calls,
        )

    def decompose_task(self, task: str, ctx: DecompositionContext) -> Decomposition:
        """`task` as steps in words, each retrieved against the library's known skills."""
        library = ctx.library
        retriever = self.retriever(library)
        prompt = render_prompt(
            "decompose",
            task=task,
            available="\n".join(f"- {t}" for t in library.available()),
            candidates="\n".join(f"- {t}" for t in library.candidates()) or "(none)",
        )

        def check(reply: DecompositionReply) -> DecompositionReply:
            steps = [" ".join(s.split()) for s in reply.steps if s.strip()]
            if not steps or len(steps) > MAX_STEPS:
                raise VLMResponseError(
                    f"a decomposition needs 1 to {MAX_STEPS} steps, got {len(steps)}", "schema"
                )
            _check_objects(steps)
            unknown = [(s, r) for s in steps if (r := retriever.retrieve(s)).skill is None]
            if unknown:
                listed = "; ".join(f"{s!r} ({r.reason})" for s, r in unknown)
                raise VLMResponseError(
                    f"these steps match no skill of the library: {listed}; use the skill texts "
                    "listed above",
                    "unknown_skill",
                )
            return reply.model_copy(update={"steps": steps})

        reply, backend, fallback, calls = self._decide(
            "decomposer",
            prompt,
            _images(ctx.scene_image),
            DecompositionReply,
            check,
            ScriptedInput(ctx, task=task),
            lambda: self.scripted.decompose(task, library),
        )
        return Decomposition(
            task=task,
            steps=list(reply.steps),
            retrievals=retriever.retrieve_all(reply.steps),
            reasoning=reply.reasoning,
            backend=backend,
            fallback=fallback,
            calls=calls,
        )

    def judge_success(self, ctx: JudgeContext) -> Verdict:
        """Success of one executed skill from `judge_frames` of its frames (first and last: 2)."""
        frames = _pick_frames(ctx.frames, self.config.judge_frames)
        images = tuple(to_png(f) for f in frames)
        options = self.judge_options(ctx.skill, images)
        positive, negative = options if options[0] in dict(JUDGE_OPTIONS) else options[::-1]
        shown = " or ".join(f'"{o}"' for o in options)
        prompt = render_prompt("judge", skill=ctx.skill, count=len(images), options=shown)

        def check(reply: JudgeReply) -> JudgeReply:
            answer = reply.answer.strip().strip("\"'.!").lower()
            if answer not in options:
                raise VLMResponseError(
                    f"the answer {reply.answer!r} is not one of {shown}", "schema"
                )
            return reply.model_copy(update={"answer": answer})

        reply, backend, fallback, calls = self._decide(
            "judge",
            prompt,
            images,
            JudgeReply,
            check,
            ScriptedInput(ctx, positive=positive, negative=negative),
            lambda: self.scripted.judge(ctx, positive, negative),
        )
        return Verdict(
            success=reply.answer == positive,
            options=options,
            answer=reply.answer,
            reasoning=reply.reasoning,
            backend=backend,
            fallback=fallback,
            calls=calls,
        )

    def judge_options(self, skill: str, images: Sequence[bytes]) -> tuple[str, str]:
        """The answer words for a segment, in the order shown: drawn from the seed and the
        segment's content, so a resumed run asks the same question (and hits the cache)."""
        key = sha256(json.dumps([self.seed, skill, [sha256(i) for i in images]]))
        rng = random.Random(int(key[:16], 16))
        pair = JUDGE_OPTIONS[rng.randrange(len(JUDGE_OPTIONS))]
        return pair if rng.random() < 0.5 else (pair[1], pair[0])

    def analyse_progress(self, ctx: CurveContext) -> ProgressVerdict:
        """Learned? converged? add to the library? keep training? from a plot and the numbers."""
        numbers = "\n".join(
            f"- round {p['round']:g}: {float(p['rate']):.2f} over {p.get('episodes', 0):g} episodes"
            for p in list(ctx.curve)[-CURVE_SHOWN:]
        )
        prompt = render_prompt(
            "analyse",
            skill=ctx.skill,
            threshold=f"{ctx.threshold:.2f}",
            numbers=numbers or "(no evaluations yet)",
        )

        def check(reply: ProgressReply) -> ProgressReply:
            if reply.add_to_library and not reply.learned:
                raise VLMResponseError(
                    "add_to_library is true but learned is false; a skill joins the library "
                    "only once it is learned",
                    "invalid",
                )
            return reply

        reply, backend, fallback, calls = self._decide(
            "analyst",
            prompt,
            (curve_png(ctx.curve, ctx.threshold, ctx.skill),),
            ProgressReply,
            check,
            ScriptedInput(ctx),
            lambda: self.scripted.analyse(ctx),
        )
        return ProgressVerdict(
            learned=reply.learned,
            converged=reply.converged,
            add_to_library=reply.add_to_library,
            keep_training=reply.keep_training,
            reasoning=reply.reasoning,
            backend=backend,
            fallback=fallback,
            calls=calls,
        )

    # -- ask, repair once, fall back -----------------------------------------------------------

    def _decide(
        self,
        role: Role,
        prompt: str,
        images: tuple[bytes, ...],
        schema: type[R],
        check: Callable[[R], R],
        privileged: ScriptedInput,
        fallback: Callable[[], R],
    ) -> tuple[R, str, bool, list[str]]:
        """(reply, who decided, fell back?, call ids)."""
        vlm = self.backend(role)
        _, _, temperature = self.role_config(role)
        request = VLMRequest(
            role, prompt, images, schema, temperature, MAX_OUTPUT_TOKENS, privileged
        )
        decision = self.ledger.new_decision()

        def validate(text: str) -> R:
            reply = parse_reply(schema, text)
            # the rules are trusted as they are: a task no skill matches stays one step, which
            # the loop records as a missing skill; only a model's reply is checked
            return reply if vlm.name == "scripted" else check(reply)

        first = self.ledger.call(vlm, request, validate, decision=decision)
        calls = [first.call_id]
        if first.parsed is not None:
            return first.parsed, vlm.name, False, calls  # type: ignore[return-value]
        if vlm.name == "scripted":  # the rules answered something unusable: our bug
            raise RuntimeError(f"the scripted {role} gave an unusable reply: {first.error}")
        reason: VLMError | None = first.error
        if isinstance(first.error, VLMResponseError):
            repair = render_prompt(
                "repair",
                prompt=prompt,
                reply=first.response.text if first.response is not None else "(no reply)",
                problem=str(first.error),
            )
            second = self.ledger.call(
                vlm, request.with_prompt(repair), validate, decision=decision, attempt="repair"
            )
            calls.append(second.call_id)
            if second.parsed is not None:
                return second.parsed, vlm.name, False, calls  # type: ignore[return-value]
            reason = second.error
        reply = fallback()
        calls.append(self.ledger.record_fallback(role, decision, reason, calls, reply))
        return reply, "scripted", True, calls


def _images(image: Image | None) -> tuple[bytes, ...]:
    return () if image is None else (to_png(image),)


def _pick_frames(frames: Sequence[Image], count: int) -> list[Image]:
    """`count` frames spread over the segment, always its first and last (the last when 1)."""
    if not frames:
        raise ValueError("a segment to judge needs at least one frame")
    if count <= 1:
        return [frames[-1]]
    if len(frames) <= count:
        return list(frames)
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return [frames[i] for i in picks]


def _check_objects(texts: Sequence[str]) -> None:
    """A text about a block of a colour that is not in the scene is a reply fault."""
    for text in texts:
        _, others = parse_colours(text)
        if others:
            raise VLMResponseError(
                f"{text!r} names a {' and a '.join(others)} block, which is not in the scene; "
                f"the blocks are {', '.join(COLOURS[:-1])} and {COLOURS[-1]}",
                "not_in_scene",
            )


def _library_lines(library: SkillLibrary) -> str:
    lines = []
    for text, record in library.records.items():
        if record.success:
            last = record.success[-1]
            n = int(last["episodes"])
            low, high = wilson_interval(round(float(last["rate"]) * n), n)
            measured = (
                f"success {last['rate']:.2f} over {n} episodes (95% interval {low:.2f}-"
                f"{high:.2f}; {len(record.success)} evaluations"
            )
            if len(record.success) >= 2:
                before = record.success[-2]
                measured += f", previously {before['rate']:.2f} over {int(before['episodes'])}"
            measured += ")"
        else:
            measured = "not evaluated yet"
        lines.append(f"- {text} [{record.status}] {measured}")
    return "\n".join(lines)


def _history_lines(entries: Sequence[HistoryEntry]) -> str:
    if not entries:
        return "(none yet)"
    lines = []
    for h in entries[-HISTORY_SHOWN:]:
        steps = ", ".join(
            f"{s} ({'ok' if ok else 'failed'})" for s, ok in zip(h.skills, h.outcomes, strict=False)
        )
        end = f"first failed step: {h.failed_at}" if h.failed_at else "every step succeeded"
        if h.task_success is not None:
            end += f"; the task itself came true in {h.task_success:.0%} of the episodes"
        lines.append(f'- round {h.round}: "{h.task}" -> {steps or "(not run)"}; {end}')
    return "\n".join(lines)
