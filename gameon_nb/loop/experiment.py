"""`Experiment`: the loop of the paper, one stage at a time, persisted after every stage.

    >>> exp = Experiment("runs/a", RunConfig())      # or Experiment.resume("runs/a")
    >>> exp.next_stage                               # 'setup', then 'propose', ...
    >>> exp.step()                                   # run it; state.json and events.jsonl updated
    >>> exp.run()                                    # rounds until the budget or convergence

Setup writes the bootstrap data, pretrains the learner and evaluates it (round 0). Each round then
proposes a task, decomposes it, retrieves each step from the library, collects episodes with the
policy, judges every executed skill (ground truth always, the judge on a sample), fine-tunes on all
data relabelled for every known skill, evaluates, has the analyst read the learning curves, and
grows the library. After a crash, `resume` continues in the stage it was in: collection skips the
episodes already stored, training continues from its last checkpoint, so a resumed run ends where
an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import weakref
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import mediapy
import numpy as np

from gameon_nb.config import RunConfig
from gameon_nb.data.bootstrap import bootstrap
from gameon_nb.data.dataset import RowCache, TransitionData
from gameon_nb.data.relabel import relabel_known
from gameon_nb.data.store import EpisodeStore
from gameon_nb.experimenter import (
    CurveContext,
    DecompositionContext,
    Experimenter,
    HistoryEntry,
    JudgeContext,
    ProposalContext,
)
from gameon_nb.learner.evaluate import BatchPolicy, evaluate_skills, merge_results
from gameon_nb.learner.trainer import Learner
from gameon_nb.loop import events as ev
from gameon_nb.loop.collect import CollectJob, collect, waves
from gameon_nb.loop.curricula import CurriculumContext, get_curriculum
from gameon_nb.loop.summaries import (
    AnalyseSummary,
    CollectSummary,
    DecomposeSummary,
    EvaluateSummary,
    GrowSummary,
    JudgedExecution,
    JudgeSummary,
    ProposeSummary,
    RetrieveSummary,
    SetupSummary,
    StageSummary,
    TaskOutcome,
    TrainSummary,
)
from gameon_nb.loop.tensorboard import TensorBoardSink, open_sink
from gameon_nb.progress import progress_bar
from gameon_nb.records import to_json
from gameon_nb.run.dir import RunDir, RunLock
from gameon_nb.run.state import (
    Decomposed,
    HistoryRecord,
    LibraryEntry,
    RoundRecord,
    RoundRow,
    RunState,
    RunStatus,
)
from gameon_nb.sim.env import StackingEnv, make_env
from gameon_nb.skills.library import SkillLibrary
from gameon_nb.skills.results import GrowthEvidence, SeenEpisode, SkillResult
from gameon_nb.skills.skill import Skill, UnknownSkillError
from gameon_nb.streams import (
    COLLECT_ACT,
    COLLECT_SEEDS,
    EVALUATE_ACT,
    JUDGE_SAMPLE,
    SCENE,
    stream,
    stream_seed,
)

if TYPE_CHECKING:
    from gameon_nb.loop.collectors import CollectorPool

__all__ = ["STAGES", "Experiment", "round_table"]

STAGES = (
    "propose",
    "decompose",
    "retrieve",
    "collect",
    "judge",
    "train",
    "evaluate",
    "analyse",
    "grow",
)
"""The stages of one round, in order; 'setup' comes once before round 1, 'done' after the last."""
BUDGET_SPENT = "round budget spent"


def round_or_none(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


class Experiment:
    """One run of the loop in a run directory; see the module docstring."""

    def __init__(
        self,
        run_dir: Path | str,
        config: RunConfig | None = None,
        *,
        experimenter: Experimenter | None = None,
        progress: bool = False,
        read_only: bool = False,
    ) -> None:
        self.rundir = RunDir(run_dir)
        self.read_only = read_only
        """Opened to read (status, tables) without the run's lock: `step` refuses to run."""
        self._lock: RunLock | None = None if read_only else self.rundir.lock()
        if self._lock is not None:  # released by close(), or when this object is collected
            self._release = weakref.finalize(self, self._lock.release)
        saved = self.rundir.config_path.exists()
        self.config = config or self.rundir.load_config()
        if not read_only and (config is not None or not saved):
            self.rundir.save_config(self.config)
        self.progress = progress
        self.state: RunState = self.rundir.load_state()
        self.library: SkillLibrary = self.rundir.library()
        self.store: EpisodeStore = self.rundir.store()
        self.events = ev.EventLog(self.rundir.events_path)
        self._experimenter = experimenter
        self._learner: Learner | None = None
        self._scene_env: StackingEnv | None = None
        self._collectors: CollectorPool | None = None
        self._rows = RowCache()
        """Each stored episode's relabelled rows: a round's train stage reads only new ones."""
        self._tensorboard: TensorBoardSink | Literal[False] | None = None
        """Opened (from the past events) on the first event written; False without TensorBoard."""
        if not read_only:
            self._reopen_if_budget_grew()

    @classmethod
    def resume(cls, run_dir: Path | str, **kwargs: Any) -> Experiment:
        """Continue the run in `run_dir` from the stage it reached, with its saved config."""
        run = RunDir(run_dir)
        if not run.config_path.exists():
            raise FileNotFoundError(
                f"{run.config_path} not found: {run_dir} holds no run to resume"
            )
        return cls(run_dir, **kwargs)

    def __repr__(self) -> str:
        return (
            f"Experiment({str(self.rundir.root)!r}, round={self.round}, next={self.next_stage!r})"
        )

    # -- state ---------------------------------------------------------------------------------

    @property
    def round(self) -> int:
        return self.state.round

    @property
    def next_stage(self) -> str:
        """'setup', one of STAGES, or 'done'."""
        return self.state.next

    @property
    def done(self) -> bool:
        return self.next_stage == "done"

    @property
    def this_round(self) -> RoundRecord:
        """What the stages of the current round have decided so far (persisted with the state)."""
        return self.state.this_round

    @property
    def experimenter(self) -> Experimenter:
        if self._experimenter is None:
            cfg = self.config
            self._experimenter = Experimenter(cfg.experimenter, self.rundir.root, seed=cfg.seed)
        return self._experimenter

    @property
    def learner(self) -> Learner:
        """The learner: the latest checkpoint's, or a fresh one before the first."""
        if self._learner is None:
            latest = self.rundir.checkpoint("latest")
            if latest.exists():
                self._learner = Learner.load(latest, self.config.learner)
            else:
                cameras = tuple(self.config.sim.cameras)
                self._learner = Learner(self.config.learner, self.config.seed, cameras)
        return self._learner

    def _reopen_if_budget_grew(self) -> None:
        """A run that stopped at its round budget continues when the budget was raised."""
        if (
            self.done
            and self.state.stopped == BUDGET_SPENT
            and self.config.loop.rounds > self.round
        ):
            self._next_round()
            self.state.stopped = None
            self.rundir.save_state(self.state)

    def _emit(self, event: ev.Event) -> None:
        if self._tensorboard is None and self.config.loop.tensorboard:
            self._tensorboard = open_sink(self.rundir.tb_dir, self.events) or False
        self.events.append(event)
        if self._tensorboard:
            self._tensorboard.write(event)

    def _advance(self, stage: str) -> None:
        """Persist that `stage` is done: the next stage (or round) is where a resume starts."""
        if stage == "grow" and self.state.stopped:
            self.state.next = "done"
        elif stage in ("setup", "grow"):
            self._next_round()
        else:
            self.state.next = STAGES[STAGES.index(stage) + 1]
        # the library first: a kill between the two redoes the stage, which is safe (evaluations
        # of a round replace each other); the other order would lose the stage's library changes
        self.library.save(self.rundir.library_path)
        self.rundir.save_state(self.state)

    def _next_round(self) -> None:
        self.state.round += 1
        self.state.next = STAGES[0]
        self.state.this_round = RoundRecord()

    # -- running -------------------------------------------------------------------------------

    def step(self) -> StageSummary:
        """Run the next stage and return its summary (also in the stage_finished event)."""
        stage = self.next_stage
        if self.read_only:
            raise RuntimeError(f"{self.rundir.root} was opened read-only: open it to write")
        if stage == "done":
            raise RuntimeError(f"the run in {self.rundir.root} is done ({self.state.stopped})")
        resumed = self.state.started == (self.round, stage)
        self.state.started = (self.round, stage)
        self.rundir.save_state(self.state)
        self._emit(ev.StageStarted(round=self.round, stage=stage, resumed=resumed))
        started = time.perf_counter()
        summary: StageSummary = getattr(self, f"_{stage}")()
        seconds = round(time.perf_counter() - started, 2)
        self._emit(
            ev.StageFinished(round=self.round, stage=stage, seconds=seconds, summary=summary)
        )
        self._advance(stage)
        return summary

    def run_round(self) -> None:
        """Run stages until the current round is over (and setup first, if needed)."""
        if self.next_stage == "setup":
            self.step()
        current = self.round
        while not self.done and self.round == current:
            self.step()

    def run(self, rounds: int | None = None) -> None:
        """Run until the round budget (`rounds` or loop.rounds) is spent or the loop stops."""
        if rounds is not None and rounds != self.config.loop.rounds:
            loop = dataclasses.replace(self.config.loop, rounds=rounds)
            self.config = dataclasses.replace(self.config, loop=loop)
            self.rundir.save_config(self.config)
            self._reopen_if_budget_grew()

        def finished() -> int:  # rounds whose grow stage has run
            return self.round if self.done else max(self.round - 1, 0)

        with progress_bar(
            total=self.config.loop.rounds, desc="rounds", unit="round", disable=not self.progress
        ) as bar:
            bar.update(finished())
            while not self.done:
                self.run_round()
                bar.update(finished() - bar.n)

    def close(self) -> None:
        """Close the envs, collectors and files this run holds, and give up its lock."""
        if self._lock is not None:
            self._release()
        if self._collectors is not None:
            self._collectors.close()
            self._collectors = None
        if self._tensorboard:
            self._tensorboard.close()
        self._tensorboard = None
        if self._scene_env is not None:
            self._scene_env.close()
            self._scene_env = None

    # -- contexts for the experimenter ---------------------------------------------------------

    def scene(self, round: int) -> tuple[Any, Any]:
        """(image, state) of the scene the experimenter looks at in `round` (a seeded reset)."""
        if self._scene_env is None:
            self._scene_env = make_env(self.config.sim)
        env = self._scene_env
        env.reset(seed=int(stream(self.config.seed, round, SCENE).integers(2**31)))
        return env.render_view(), env.scene_state()

    def history(self) -> list[HistoryEntry]:
        return [HistoryEntry.from_dict(to_json(h)) for h in self.state.history]

    def curriculum_context(self) -> CurriculumContext:
        """What this round's curriculum reads."""
        return CurriculumContext(
            self.round, self.config.seed, self.config.loop, self.library, self.experimenter,
            lambda: self.proposal_context(self.round),
        )  # fmt: skip

    def proposal_context(self, round: int) -> ProposalContext:
        image, state = self.scene(round)
        return ProposalContext(
            scene_image=image,
            scene_state=state,
            library=self.library,
            history=self.history(),
            targets=list(self.config.loop.targets),
            round=round,
        )

    # -- setup ---------------------------------------------------------------------------------

    def _setup(self) -> SetupSummary:
        cfg = self.config
        stats = bootstrap(self.rundir.root, cfg, progress=self.progress)
        train = self._train_to(cfg.loop.pretrain_steps)
        evaluation = self._evaluate()
        return SetupSummary(
            bootstrap=stats, train=train, evaluation=evaluation, library_size=self.library_size()
        )

    # -- the stages of a round -----------------------------------------------------------------

    def _propose(self) -> ProposeSummary:
        choice = get_curriculum(self.config.loop.curriculum)(self.curriculum_context())
        image = self.rundir.image(f"round-{self.round:03d}-scene.png")
        image.parent.mkdir(parents=True, exist_ok=True)
        mediapy.write_image(image, self.scene(self.round)[0])
        self.this_round.task = choice.task
        self.this_round.steps = choice.steps
        event = ev.TaskProposed(
            round=self.round, stage="propose", task=choice.task, reasoning=choice.reasoning,
            backend=choice.backend, fallback=choice.fallback,
            image=str(image.relative_to(self.rundir.root)), calls=choice.calls,
        )  # fmt: skip
        self._emit(event)
        return ProposeSummary(task=choice.task, backend=choice.backend, fallback=choice.fallback)

    def _decompose(self) -> DecomposeSummary:
        task, given = self.this_round.task, self.this_round.steps
        if given is not None:  # the curriculum chose the steps itself
            retriever = self.experimenter.retriever(self.library)
            record = Decomposed(
                given, [retriever.retrieve(s) for s in given], "curriculum",
                "steps chosen by the curriculum", task=task,
            )  # fmt: skip
        else:
            image, state = self.scene(self.round)
            context = DecompositionContext(image, state, self.library, self.round)
            d = self.experimenter.decompose_task(task, context)
            record = Decomposed(d.steps, d.retrievals, d.backend, d.reasoning, d.fallback, d.calls)
        self.this_round.decomposition = record
        self._emit(
            ev.TaskDecomposed(
                round=self.round, stage="decompose", task=task, steps=record.steps,
                reasoning=record.reasoning, backend=record.backend, fallback=record.fallback,
                calls=record.calls,
            )
        )  # fmt: skip
        return DecomposeSummary(steps=record.steps, backend=record.backend)

    def _retrieve(self) -> RetrieveSummary:
        this, record = self.this_round, self.this_round.decomposition
        assert record is not None, "retrieve runs after decompose"
        plan, missing = [], []
        for step, retrieval in zip(record.steps, record.retrievals, strict=True):
            if retrieval.skill is None:
                missing.append(step)
            else:
                plan.append(retrieval.skill)
        this.plan, this.missing = plan, missing
        this.task_skill = self.task_skill(this.task, chain=record.backend == "curriculum")
        for step in missing:
            self.state.requests[step] = self.state.requests.get(step, 0) + 1
        self._emit(
            ev.SkillsRetrieved(
                round=self.round, stage="retrieve", steps=record.steps,
                retrievals=record.retrievals, plan=plan, missing=missing,
            )
        )  # fmt: skip
        return RetrieveSummary(plan=plan, missing=missing, task_skill=this.task_skill)

    def task_skill(self, task: str, chain: bool = False) -> str | None:
        """The known skill a task names (its predicate is the task's outcome), or None.

        A `chain` (steps the curriculum chose itself, e.g. "lift the red block; open the
        gripper") names a skill only when it is one canonical text: its outcome is every step's.
        """
        if not task:
            return None
        if chain:
            with contextlib.suppress(UnknownSkillError):
                return Skill.from_text(task).text
            return None
        found = self.experimenter.skill_of(task, self.library)
        return None if found is None else found.text

    def jobs(self) -> list[CollectJob]:
        """This round's collection jobs (none when nothing in the plan could be retrieved)."""
        plan = tuple(Skill.from_text(t) for t in self.this_round.plan)
        if not plan:
            return []
        seeds = stream(self.config.seed, self.round, COLLECT_SEEDS).integers(
            2**31, size=self.config.loop.episodes_per_task
        )
        task, task_skill = self.this_round.task, self.this_round.task_skill
        return [CollectJob(j, int(s), task, plan, task_skill) for j, s in enumerate(seeds)]

    def round_episodes(self, round: int | None = None) -> dict[int, int]:
        """Job index -> episode id of the loop's episodes of a round (default: the current one)."""
        round = self.round if round is None else round
        out = {}
        for i in self.store.ids():
            meta = self.store.meta(i)
            if meta["round"] == round and (job := meta.get("job")) is not None:
                out[job] = i
        return out

    def collectors(self) -> CollectorPool:
        """The Ray actors that collect when `loop.collectors` > 0: made on first use, kept for
        the life of this object (closed by `close`)."""
        from gameon_nb.loop.collectors import CollectorPool

        count = self.config.loop.collectors
        if self._collectors is not None and self._collectors.count != count:
            self._collectors.close()
            self._collectors = None
        if self._collectors is None:
            self._collectors = CollectorPool(count)
        return self._collectors

    def _collect(self) -> CollectSummary:
        jobs = self.jobs()
        done = self.round_episodes()
        todo = {j.index for j in jobs if j.index not in done}
        # a wave with any job left is run whole, so it batches as it did the first time
        rerun = [
            j for w in waves(jobs, self.config.loop.envs) if {j.index for j in w} & todo for j in w
        ]
        learner, seed = self.learner, self.config.seed

        def seed_for(wave: int) -> int:
            return stream_seed(seed, self.round, wave, COLLECT_ACT)

        def policy_for(wave: int) -> BatchPolicy:
            return learner.policy(seed=seed_for(wave))

        if self.config.loop.collectors:
            episodes = self.collectors().collect(
                learner, seed_for, rerun, self.config, self.round, progress=self.progress
            )
        else:
            episodes = collect(policy_for, rerun, self.config, self.round, progress=self.progress)
        for episode in episodes:
            if episode.job not in todo:
                continue
            self.store.append(episode)
            self._emit(
                ev.EpisodeCollected(
                    round=self.round, stage="collect", episode=int(episode.id or 0),
                    skills=list(episode.skills), outcomes=episode.segment_success(),
                    steps=episode.steps, task_skill=episode.task_skill,
                    task_success=episode.task_success(),
                )
            )  # fmt: skip
        collected = self.round_episodes()
        self.this_round.episodes = [collected[j] for j in sorted(collected)]
        return CollectSummary(
            episodes=len(collected), skipped=len(jobs) - len(todo),
            task_success=self.task_outcome()["rate"],
        )  # fmt: skip

    def task_outcome(self, round: int | None = None) -> TaskOutcome:
        """How often a round's task came true, from the outcome stored on each of its
        episodes."""
        round = self.round if round is None else round
        metas = [self.store.meta(i) for i in self.round_episodes(round).values()]
        known = [k for m in metas if (k := m.get("task_success")) is not None]
        task = metas[0]["task"] if metas else self.this_round.task
        skill = metas[0].get("task_skill") if metas else self.this_round.task_skill
        return TaskOutcome(
            task=task, skill=skill, successes=int(sum(known)), episodes=len(known),
            rate=round_or_none(sum(known) / len(known) if known else None),
        )  # fmt: skip

    def _judge(self) -> JudgeSummary:
        """Ground truth of every executed skill and task; the judge's verdict on a sample of
        them, or on all of them when the loop acts on the judge's word (loop.outcome_source)."""
        loop = self.config.loop
        by_judge = loop.outcome_source == "judge"
        view = self.config.sim.view_camera
        rng = stream(self.config.seed, self.round, JUDGE_SAMPLE)
        outcomes: dict[str, list[bool]] = {}  # skill -> the loop's word per execution
        tasks: list[bool] = []
        verdicts: list[JudgedExecution] = []
        agree = 0

        def judged(episode_id: int, segment: int | None, skill: str, truth: bool) -> bool:
            """The loop's word on one execution: the judge's verdict if it judges, else truth."""
            nonlocal agree
            if view not in episode.frames or not (by_judge or rng.random() < loop.judge_fraction):
                return truth
            frames, _ = episode.segment_frames(view, segment, ends_only=True)
            verdict = self.experimenter.judge_success(JudgeContext(skill, frames, truth))
            agree += verdict.success == truth and not verdict.fallback
            verdicts.append(
                JudgedExecution(
                    episode=episode_id, segment=segment, skill=skill, truth=truth,
                    verdict=verdict.success, reasoning=verdict.reasoning,
                    backend=verdict.backend, fallback=verdict.fallback,
                )
            )  # fmt: skip
            return verdict.success if by_judge else truth

        for episode_id in self.this_round.episodes:
            episode = self.store.load(episode_id)
            words = [
                judged(episode_id, k, skill, truth)
                for k, (skill, truth) in enumerate(
                    zip(episode.skills, episode.segment_success(), strict=True)
                )
            ]
            for skill, word in zip(episode.skills, words, strict=True):
                outcomes.setdefault(skill, []).append(word)
            task_truth = episode.task_success()
            if task_truth is not None:
                if episode.task_skill is None:  # the chain is the task: every step's word
                    tasks.append(all(words))
                else:
                    tasks.append(judged(episode_id, None, episode.task_skill, task_truth))
        backend = self.experimenter.role_config("judge")[0]
        event = ev.JudgeAgreement(
            round=self.round, stage="judge", judged=len(verdicts), agree=agree, backend=backend,
            verdicts=verdicts, fallbacks=sum(bool(v["fallback"]) for v in verdicts),
            source=loop.outcome_source,
        )  # fmt: skip
        self._emit(event)
        plan = self.this_round.plan
        by_skill = {s: float(np.mean(v)) for s, v in outcomes.items()}
        steps_ok = [by_skill.get(s, 0.0) >= 0.5 for s in plan]
        failed = next((s for s, ok in zip(plan, steps_ok, strict=True) if not ok), None)
        actual = self.task_outcome()
        rate = round_or_none(float(np.mean(tasks)) if tasks else None)
        if self.this_round.task:
            self.state.history.append(
                HistoryRecord(
                    self.round, self.this_round.task, plan, steps_ok, failed, actual["skill"],
                    rate, loop.outcome_source, actual["rate"],
                )
            )  # fmt: skip
        self.this_round.outcomes = by_skill
        return JudgeSummary(
            judged=event.judged, fallbacks=event.fallbacks, agreement=event.agreement,
            outcomes=by_skill, source=loop.outcome_source, task_success=rate,
        )  # fmt: skip

    def _train_to(self, steps: int) -> TrainSummary:
        """`steps` updates from where this round's training began, checkpointed for resumes."""
        learner = self.learner
        name = f"train-{self.round:03d}"
        partial = self.rundir.checkpoint(name)
        if partial.exists():  # a killed training stage: continue from its last checkpoint
            learner = self._learner = Learner.load(partial, self.config.learner)
        if self.this_round.train_target is None:
            self.this_round.train_target = learner.step + steps
        target = self.this_round.train_target
        self.rundir.save_state(self.state)
        data = TransitionData.from_store(
            self.store, self.library.known(), learner.config.pixels, cache=self._rows
        )  # fmt: skip
        relabel_known(self.library, data)  # every known skill relabelled on all data
        learner.set_data(data)
        rows: list[dict[str, float]] = []
        bar = progress_bar(total=steps, initial=steps - (target - learner.step), desc="train",
                           disable=not self.progress, leave=False)  # fmt: skip
        while learner.step < target:
            chunk = min(self.config.loop.checkpoint_every, target - learner.step)
            for row in learner.fit(chunk):
                rows.append(row)
                self._emit(ev.TrainingProgress(round=self.round, stage="train", metrics=row))
            bar.update(chunk)
            learner.save(partial)
        bar.close()
        learner.save(self.rundir.checkpoint("latest"))
        learner.save(self.rundir.checkpoint(f"round-{self.round:03d}"))
        partial.unlink(missing_ok=True)
        summary = TrainSummary(steps=learner.step, rows=data.rows)
        if rows:
            last = rows[-1]
            summary |= {
                "critic_loss": round(last["critic_loss"], 4),
                "bc_loss": round(last["bc_loss"], 4),
                "q_data": round(last["q_data"], 4),
            }
        return summary

    def _train(self) -> TrainSummary:
        return self._train_to(self.config.loop.train_steps)

    def eval_skills(self) -> list[str]:
        """Skills evaluated in full: targets, learned skills, every skill and task a round
        executed (and the base skills in round 0, or every round with loop.eval_base)."""
        loop = self.config.loop
        wanted = set(loop.targets)
        wanted |= {t for t, r in self.library.records.items() if r.status == "learned"}
        for entry in self.state.history:
            wanted |= {*entry.skills, *([entry.task_skill] if entry.task_skill else [])}
        this = self.this_round
        wanted |= {*this.plan, *([this.task_skill] if this.task_skill else [])}
        if loop.eval_base or self.round == 0:
            wanted |= {t for t, r in self.library.records.items() if r.status == "base"}
        return [t for t in self.library.known() if t in wanted]

    def screened_skills(self) -> list[str]:
        """Candidates with data that `eval_skills` leaves out, in a round that screens them."""
        loop = self.config.loop
        if loop.screen_every == 0:
            return []
        if not (self.round in (0, loop.rounds) or self.round % loop.screen_every == 0):
            return []
        full = set(self.eval_skills())
        return [
            t
            for t in self.library.candidates()
            if t not in full and self.library[t].reward_steps > 0
        ]

    def _evaluate(self) -> EvaluateSummary:
        cfg, loop = self.config, self.config.loop
        policy = self.learner.policy(seed=stream_seed(cfg.seed, self.round, EVALUATE_ACT))
        by_judge = loop.outcome_source == "judge" and self.round > 0
        views = set(self.library.candidates()) if by_judge else set()

        def evaluate(skills: list[str], episodes: int, first: int = 0) -> dict[str, SkillResult]:
            return evaluate_skills(
                policy, skills, cfg.sim, episodes=episodes, envs=cfg.learner.eval_envs,
                seed=cfg.seed, stop_on_success=cfg.learner.eval_stop_on_success,
                progress=self.progress, first=first, views=views,
            )  # fmt: skip

        results = evaluate(self.eval_skills(), loop.eval_episodes)
        screen = min(loop.screen_episodes, loop.eval_episodes)
        screened = evaluate(self.screened_skills(), screen)
        promising = [t for t, r in screened.items() if r["ci95"][1] >= loop.grow_threshold]
        if promising and screen < loop.eval_episodes:
            rest = evaluate(promising, loop.eval_episodes - screen, first=screen)
            screened |= {t: merge_results(screened[t], rest[t]) for t in promising}
        for text, result in screened.items():
            results[text] = result | {"screened": text not in promising}
        evidence = {}
        for text, result in results.items():
            seen = result.pop("views", None)
            if seen and result["episodes"] >= loop.grow_min_episodes:
                result["judge"] = evidence[text] = self._judge_evaluation(text, seen)
        self.this_round.growth_evidence = {t: e["success"] for t, e in evidence.items()}
        self.this_round.evaluation = {t: r["success"] for t, r in results.items()}
        for text, result in results.items():
            self.library.record_success(text, self.round, result["success"], result["episodes"])
        self.rundir.write_json(self.rundir.evaluation(self.round), results)
        self._emit(ev.Evaluated(round=self.round, stage="evaluate", results=results))
        rates = [r["success"] for r in results.values()]
        return EvaluateSummary(
            skills=len(results), screened=len(screened),
            mean_success=round(float(np.mean(rates)), 4) if rates else None,
            judged_for_growth=len(evidence),
        )  # fmt: skip

    def _judge_evaluation(self, skill: str, seen: list[SeenEpisode]) -> GrowthEvidence:
        """The judge's verdicts on a candidate's evaluation episodes (first and last frame):
        the evidence for growth when the loop acts on the judge's word."""
        verdicts = [
            self.experimenter.judge_success(JudgeContext(skill, v["frames"], v["truth"]))
            for v in seen
        ]
        own = [
            (v.success, s["truth"]) for v, s in zip(verdicts, seen, strict=True) if not v.fallback
        ]
        return GrowthEvidence(
            success=sum(v.success for v in verdicts) / len(verdicts), episodes=len(verdicts),
            fallbacks=len(verdicts) - len(own), agree=sum(a == b for a, b in own),
        )  # fmt: skip

    def _analyse(self) -> AnalyseSummary:
        analysed = {}
        for text in self.library.known():
            record = self.library[text]
            if not record.success or (
                record.status == "base" and text not in self.config.loop.targets
            ):
                continue
            curve = [dict(p) for p in record.success]
            verdict = self.experimenter.analyse_progress(
                CurveContext(text, curve, threshold=self.config.loop.grow_threshold)
            )
            analysed[text] = verdict
            self._emit(
                ev.ProgressAnalysed(
                    round=self.round, stage="analyse", skill=text, verdict=verdict.to_json()
                )
            )
        self.this_round.analysis = analysed
        return AnalyseSummary(analysed=len(analysed))

    def _grow(self) -> GrowSummary:
        loop = self.config.loop
        analysis = self.this_round.analysis
        added = []
        evidence = self.this_round.growth_evidence
        for text in self.library.candidates():
            latest = self.library[text].success[-1] if self.library[text].success else None
            rate = latest["rate"] if latest is not None else 0.0
            if loop.outcome_source == "judge":  # the judge's verdicts on those episodes
                rate = evidence.get(text, 0.0)
            measured = bool(
                latest is not None
                and latest["round"] == self.round
                and rate >= loop.grow_threshold
                and latest["episodes"] >= loop.grow_min_episodes
            )
            verdict = analysis.get(text)
            judged = bool(verdict and verdict.learned and verdict.add_to_library)
            if measured and (loop.grow_rule_only or judged):
                self.library.promote(text, self.round)
                added.append(text)
                assert latest is not None
                self._emit(
                    ev.SkillAdded(
                        round=self.round, stage="grow", skill=text, success=latest["rate"],
                        episodes=int(latest["episodes"]), analyst_agreed=judged,
                        evidence=loop.outcome_source, evidence_success=rate,
                    )
                )  # fmt: skip
            elif verdict and measured != judged:
                self._emit(
                    ev.GrowthDisagreement(
                        round=self.round, stage="grow", skill=text, measured=measured,
                        analyst=judged,
                    )
                )  # fmt: skip
        state = self.state
        converged = all(t in analysis and analysis[t].converged for t in loop.targets)
        state.converged_streak = state.converged_streak + 1 if converged else 0
        if self.round >= loop.rounds:
            state.stopped = BUDGET_SPENT
        elif loop.stop == "converged" and state.converged_streak >= 2:
            state.stopped = "every target converged in two consecutive rounds"
        if state.stopped:
            self._emit(ev.RunStopped(round=self.round, stage="grow", reason=state.stopped))
        return GrowSummary(added=added, stopped=state.stopped, library_size=self.library_size())

    def library_size(self) -> int:
        """Skills in the library: the base ones and those learned (candidates are not in it)."""
        return sum(r.status != "candidate" for r in self.library.records.values())

    # -- reading -------------------------------------------------------------------------------

    def round_table(self) -> list[RoundRow]:
        """See `round_table`."""
        return round_table(self.state, self.library)

    def status(self) -> RunStatus:
        """Stage reached, round, episodes, library (text -> status, latest success), evaluation."""
        latest = self.rundir.latest_evaluation()
        return RunStatus(
            run_dir=str(self.rundir.root), round=self.round, next_stage=self.next_stage,
            stopped=self.state.stopped, episodes=len(self.store),
            library={
                t: LibraryEntry(r.status, r.latest_success)
                for t, r in self.library.records.items()
            },
            latest_evaluation=latest, requests=dict(self.state.requests),
            curriculum=self.config.loop.curriculum,
            task_counts=dict(Counter(h.task for h in self.state.history)),
            rounds=self.round_table(),
        )  # fmt: skip


def round_table(state: RunState, library: SkillLibrary) -> list[RoundRow]:
    """Per finished round of a run's state: the task, its skill, the decomposition's length, the
    share of episodes in which the task came true, the skills that joined, the library's size.

    >>> round_table(RunDir(path).load_state(), RunDir(path).library())
    """
    history = {h.round: h for h in state.history}
    records = library.records.values()
    finished = state.round if state.next == "done" else state.round - 1
    rows = []
    for r in range(1, finished + 1):
        entry = history.get(r) or HistoryRecord(r, "")
        added = [x.text for x in records if x.round_added == r and x.status == "learned"]
        size = sum(x.status != "candidate" and (x.round_added or 0) <= r for x in records)
        rows.append(
            RoundRow(
                r, entry.task, entry.task_skill, len(entry.skills), entry.task_success, added,
                size,
            )
        )  # fmt: skip
    return rows
