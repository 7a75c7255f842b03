"""The scripted experimenter: correct decompositions (executed with the scripted controllers),
determinism for a seed and state, learning-progress proposals, rules, the registry, no side
effects at import time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scenes import place

from gameon_nb.config import ConfigError, ExperimenterConfig, RoleConfig
from gameon_nb.experimenter import (
    BackendConfigError,
    CurveContext,
    DecompositionContext,
    Experimenter,
    HistoryEntry,
    JudgeContext,
    MissingDependencyError,
    ProposalContext,
    ScriptedExperimenter,
    UnknownBackendError,
    read_call_log,
)
from gameon_nb.experimenter.backends import BackendSpec, make_backend
from gameon_nb.experimenter.curves import label_curve
from gameon_nb.experimenter.experimenter import JUDGE_OPTIONS
from gameon_nb.sim import make_env, scripted_controller
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills import Skill, SkillLibrary, all_skills

TOWER = "build a tower of the red, green and blue blocks"
STACK = "stack the red block on the blue block"


def execute(steps: list[str], seed: int) -> SceneState:
    """Run each step's scripted controller for the step's duration from a seeded reset."""
    env = make_env()
    env.reset(seed=seed)
    for text in steps:
        skill = Skill.from_text(text)
        controller = scripted_controller(skill.template, skill.colours)
        for _ in range(skill.duration):
            env.step(controller(env.scene_state()))
    state = env.scene_state()
    env.close()
    return state


def test_every_skill_decomposes_into_known_steps() -> None:
    rules, library = ScriptedExperimenter(), SkillLibrary.initial()
    for skill in all_skills():
        steps = rules.decompose(skill.text, library).steps
        assert all(Skill.from_text(s).text == s for s in steps), steps
        if skill.kind == "base" or skill.template == "next_to":
            assert steps == [skill.text]  # base: itself; next-to: the candidate, to be learned
        elif skill.template == "stack":
            top, bottom = skill.colours
            assert steps[-2:] == [
                f"hold the {top} block above the {bottom} block",
                "open the gripper",
            ]
        else:
            assert len(steps) == 8


@pytest.mark.parametrize(
    ("task", "seed"), [(STACK, 1), ("stack the green block on the red block", 4)]
)
def test_a_scripted_stack_decomposition_really_stacks(task: str, seed: int) -> None:
    steps = ScriptedExperimenter().decompose(task, SkillLibrary.initial()).steps
    assert bool(Skill.from_text(task).success(execute(steps, seed)))


def test_a_tower_decomposition_really_builds_the_tower() -> None:
    steps = ScriptedExperimenter().decompose(TOWER, SkillLibrary.initial()).steps
    assert bool(Skill.from_text(TOWER).success(execute(steps, 2)))


def test_a_task_no_skill_matches_stays_one_missing_step(scene, tmp_path) -> None:
    image, state = scene
    exp = Experimenter(ExperimenterConfig(), tmp_path)
    plan = exp.decompose_task(
        "juggle the blocks", DecompositionContext(image, state, SkillLibrary.initial())
    )
    assert (plan.steps, plan.skills, plan.fallback) == (["juggle the blocks"], [None], False)
    assert "threshold" in plan.retrievals[0].reason


def test_learned_skills_are_used_as_steps() -> None:
    rules, library = ScriptedExperimenter(), SkillLibrary.initial()
    library.promote("stack the green block on the blue block", round=2)
    steps = rules.decompose(TOWER, library).steps
    assert steps[0] == "stack the green block on the blue block"
    assert steps[1:] == rules.decompose("stack the red block on the green block", library).steps
    library.promote("stack the red block on the green block", round=3)
    assert rules.decompose(TOWER, library).steps == [
        "stack the green block on the blue block",
        "stack the red block on the green block",
    ]
    library.promote(TOWER, round=4)
    assert rules.decompose(TOWER, library).steps == [TOWER]


def test_scripted_decisions_are_deterministic_for_a_seed_and_state(scene, tmp_path) -> None:
    image, state = scene
    library = SkillLibrary.initial()
    history = [{"round": 1, "task": STACK, "skills": [], "outcomes": [], "failed_at": None}]

    def decisions(seed: int, run: str) -> list[object]:
        exp = Experimenter(ExperimenterConfig(), tmp_path / run, seed=seed)
        out: list[object] = []
        for r in range(1, 6):
            ctx = ProposalContext(image, state, library, history, [TOWER], round=r)
            p = exp.propose_task(ctx)
            d = exp.decompose_task(p.task, DecompositionContext(image, state, library, r))
            v = exp.judge_success(JudgeContext(p.task, [image, image], ground_truth=r % 2 == 1))
            out.append((p.task, p.reasoning, d.steps, v.success, v.options, v.answer))
        return out

    first = decisions(7, "a")
    assert decisions(7, "b") == first
    assert len({task for task, *_ in first}) > 1  # rounds draw different tie-breaks
    assert [v for *_, v, _, _ in first] == [True, False, True, False, True]


def test_proposals_follow_learning_progress(scene) -> None:
    image, state = scene
    library = SkillLibrary.initial()
    for text in library.known():  # every skill measured twice, flat
        library.record_success(text, round=1, rate=0.5, episodes=10)
        library.record_success(text, round=2, rate=0.5, episodes=10)
    # rose by 0.45, the largest change, but it is mastered: not worth proposing
    library.record_success("lift the green block", round=3, rate=0.95, episodes=10)
    library.record_success("grasp the blue block", round=3, rate=0.1, episodes=10)
    rules = ScriptedExperimenter(seed=0)
    proposal = rules.propose(ProposalContext(image, state, library, round=3))
    assert proposal.task == "grasp the blue block"  # fell by 0.4, the largest unmastered change
    failed = [HistoryEntry(2, STACK, ("grasp the red block",), (False,), "grasp the red block")]
    ctx = ProposalContext(image, state, library, failed, round=3)
    library.records["grasp the blue block"].success[-1]["rate"] = 0.7  # progress 0.2 < 0.3 bonus
    assert rules.propose(ctx).task == "grasp the red block"


def test_proposals_skip_what_the_scene_already_shows(scene) -> None:
    image, _ = scene
    state = place({}, opening=0.09)
    assert bool(Skill.from_text("open the gripper").success(state))
    ctx = ProposalContext(image, state, SkillLibrary.initial(), targets=["open the gripper", STACK])
    assert all(ScriptedExperimenter(s).propose(ctx).task != "open the gripper" for s in range(6))


def test_a_tower_is_not_proposed_before_its_stacks(scene) -> None:
    image, state = scene
    library = SkillLibrary.initial()
    tasks = {
        ScriptedExperimenter(s)
        .propose(ProposalContext(image, state, library, targets=[TOWER]))
        .task
        for s in range(8)
    }
    assert TOWER not in tasks
    for stack in (
        "stack the green block on the blue block",
        "stack the red block on the green block",
    ):
        library.record_success(stack, round=1, rate=0.9, episodes=20)
        library.promote(stack, round=1)
    ctx = ProposalContext(image, state, library, targets=[TOWER])
    assert ScriptedExperimenter(0).propose(ctx).task == TOWER


def test_the_scripted_judge_reads_ground_truth_and_needs_it(scene, tmp_path) -> None:
    image, _ = scene
    exp = Experimenter(ExperimenterConfig(), tmp_path)
    for truth in (True, False):
        verdict = exp.judge_success(JudgeContext("lift the red block", [image], ground_truth=truth))
        assert verdict.success is truth
        assert (verdict.answer in ("yes", "success")) is truth
    with pytest.raises(ValueError, match="ground truth"):
        exp.judge_success(JudgeContext("lift the red block", [image]))


def test_a_scripted_judge_that_errs_flips_its_share_the_same_way_each_time(tmp_path) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (8, 8, 3), dtype=np.uint8) for _ in range(300)]
    config = ExperimenterConfig(scripted_judge_error=0.2, cache=False)

    def verdicts(run: str) -> list[bool]:
        exp = Experimenter(config, tmp_path / run)
        return [
            exp.judge_success(JudgeContext("lift the red block", [f, f], ground_truth=True)).success
            for f in frames
        ]

    first = verdicts("a")
    assert 0.13 < first.count(False) / len(first) < 0.27  # 20% of 300: 60, sd 7
    assert verdicts("b") == first  # the same frames draw the same errors
    exact = Experimenter(config, tmp_path / "c").scripted  # the rules behind every fallback
    assert all(exact.judge(JudgeContext("lift", [f], True)).answer == "yes" for f in frames)
    with pytest.raises(ValueError, match=r"scripted_judge_error is 1.5; it accepts >= 0 and <= 1"):
        Experimenter(ExperimenterConfig(scripted_judge_error=1.5), tmp_path / "d")


def test_judge_options_are_drawn_per_segment_and_logged(tmp_path) -> None:
    exp = Experimenter(ExperimenterConfig(), tmp_path, seed=0)
    rng = np.random.default_rng(0)
    verdicts = []
    for _ in range(24):
        frames = [rng.integers(0, 255, (8, 8, 3), dtype=np.uint8) for _ in range(2)]
        ctx = JudgeContext("grasp the red block", frames, ground_truth=True)
        verdicts.append(exp.judge_success(ctx))
    assert {v.options for v in verdicts} == {o for p in JUDGE_OPTIONS for o in (p, p[::-1])}
    assert all(v.success for v in verdicts)
    records = list(read_call_log(tmp_path / "calls.jsonl"))
    for verdict, record in zip(verdicts, records, strict=True):
        first, second = verdict.options
        assert f'exactly one of these two words: "{first}" or "{second}".' in record["prompt"]
        assert json.loads(record["response"])["answer"] == verdict.answer


def test_the_judge_is_shown_the_first_and_last_frame(tmp_path) -> None:
    frames = [np.full((4, 4, 3), i, dtype=np.uint8) for i in range(7)]
    exp = Experimenter(ExperimenterConfig(judge_frames=2), tmp_path / "two")
    exp.judge_success(JudgeContext("open the gripper", frames, ground_truth=True))
    from gameon_nb.experimenter.images import to_png
    from gameon_nb.experimenter.protocol import sha256

    (record,) = read_call_log(tmp_path / "two" / "calls.jsonl")
    assert record["images"] == [sha256(to_png(frames[0])), sha256(to_png(frames[-1]))]
    exp = Experimenter(ExperimenterConfig(judge_frames=3), tmp_path / "three")
    exp.judge_success(JudgeContext("open the gripper", frames, ground_truth=True))
    (record,) = read_call_log(tmp_path / "three" / "calls.jsonl")
    assert record["images"] == [sha256(to_png(frames[i])) for i in (0, 3, 6)]


def test_the_analyst_rules_on_hand_made_curves(tmp_path) -> None:
    exp = Experimenter(ExperimenterConfig(), tmp_path)

    def read(rates: list[float]) -> tuple[bool, bool, bool, bool]:
        curve = [{"round": i + 1, "rate": r, "episodes": 20} for i, r in enumerate(rates)]
        v = exp.analyse_progress(CurveContext(STACK, curve, threshold=0.8))
        return v.learned, v.converged, v.add_to_library, v.keep_training

    assert read([0.2, 0.85, 0.9, 0.9, 0.9]) == (True, True, True, False)  # learned, flat
    assert read([0.1, 0.3, 0.5, 0.7]) == (False, False, False, True)  # still rising
    assert read([0.4, 0.45, 0.4, 0.42]) == (False, True, False, False)  # plateau below
    assert read([0.5, 0.9, 0.95, 0.4]) == (False, False, False, True)  # collapse
    assert read([0.95]) == (False, False, False, True)  # one evaluation is not enough
    assert read([0.5, 0.85, 0.9]) == (True, False, True, True)  # learned, still moving


def test_the_analysts_reason_says_what_the_curve_shows() -> None:
    def reason(rates: list[float]) -> str:
        curve = [{"round": i + 1, "rate": r, "episodes": 20} for i, r in enumerate(rates)]
        return label_curve(curve, threshold=0.8).reason

    # a curve at zero is not "still moving": too short to call flat, and below the threshold
    assert reason([0.0, 0.0]) == (
        "below the threshold at 0.00 after 2 evaluations; 3 are needed to call it flat"
    )
    assert reason([0.0, 0.0, 0.0]).startswith("flat below the threshold at 0.00")
    assert reason([0.1, 0.3, 0.5, 0.7]) == (
        "below the threshold and still moving: 0.30 to 0.70 over the last 3"
    )
    assert reason([0.2, 0.85, 0.9, 0.9, 0.9]).startswith("learned and flat past the threshold")
    assert reason([0.9]).startswith("past the threshold at 0.90 after 1 evaluation;")


def test_role_settings_override_the_defaults(tmp_path) -> None:
    cfg = ExperimenterConfig(
        backend="scripted", judge=RoleConfig(backend="openai", model="llava", temperature=0.7)
    )
    exp = Experimenter(cfg, tmp_path)
    assert exp.role_config("judge") == ("openai", "llava", 0.7)
    assert exp.role_config("proposer") == ("scripted", "scripted", 0.0)
    assert exp.role_config("analyst")[0] == "scripted"


def test_an_unknown_backend_lists_the_known_ones(tmp_path) -> None:
    with pytest.raises(
        ConfigError, match=r"backend is 'claude'; it accepts \['scripted', 'gemini'"
    ):
        ExperimenterConfig(backend="claude")  # type: ignore[arg-type]
    spec = BackendSpec(ExperimenterConfig(), "claude-3", 0, None)
    with pytest.raises(UnknownBackendError, match="gemini, openai, replay, scripted"):
        make_backend("claude", spec)  # the registry's own check, for code that skips the config


def test_configuration_faults_say_what_to_do(monkeypatch, scene, tmp_path) -> None:
    image, state = scene
    ctx = ProposalContext(image, state, SkillLibrary.initial())
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(BackendConfigError, match="GEMINI_API_KEY"):
        Experimenter(ExperimenterConfig(backend="gemini"), tmp_path).propose_task(ctx)
    with pytest.raises(BackendConfigError, match="OPENAI_API_KEY"):
        Experimenter(ExperimenterConfig(backend="openai"), tmp_path).propose_task(ctx)
    with pytest.raises(BackendConfigError, match="replay_log"):
        Experimenter(ExperimenterConfig(backend="replay"), tmp_path).propose_task(ctx)
    monkeypatch.setenv("GEMINI_API_KEY", "a-key-for-this-test")
    monkeypatch.setitem(sys.modules, "google.genai", None)  # as if the extra were not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'gameon_nb\[gemini\]'"):
        Experimenter(ExperimenterConfig(backend="gemini"), tmp_path).propose_task(ctx)
    monkeypatch.setitem(sys.modules, "openai", None)
    monkeypatch.setenv("OPENAI_API_KEY", "a-key-for-this-test")
    with pytest.raises(MissingDependencyError, match=r"pip install 'gameon_nb\[openai\]'"):
        Experimenter(ExperimenterConfig(backend="openai"), tmp_path).propose_task(ctx)


def test_import_and_construction_build_no_client_and_write_no_environment(tmp_path: Path) -> None:
    code = f"""
import os, sys
import gameon_nb.experimenter as e
from gameon_nb.config import ExperimenterConfig
before = dict(os.environ)
exp = e.Experimenter(ExperimenterConfig(backend="gemini"), {str(tmp_path)!r})
assert dict(os.environ) == before, "the environment changed"
assert "openai" not in sys.modules and "google.genai" not in sys.modules, "an SDK was imported"
print("clean")
"""
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "clean", done.stderr


def test_the_analyst_plot_shows_the_threshold_and_the_points() -> None:
    from gameon_nb.experimenter.images import PLOT_SIZE, curve_png, from_png

    curve = [{"round": r, "rate": 0.5, "episodes": 10} for r in (1, 2, 3)]

    def rows(image: np.ndarray, colour: tuple[int, int, int]) -> set[int]:
        hits = np.all(np.abs(image.astype(int) - colour) < 30, axis=-1)
        return set(np.flatnonzero(hits.any(axis=1)).tolist())

    low, high = from_png(curve_png(curve, 0.3)), from_png(curve_png(curve, 0.9))
    assert low.shape == (PLOT_SIZE[1], PLOT_SIZE[0], 3)
    red_low, red_high = rows(low, (200, 60, 60)), rows(high, (200, 60, 60))
    assert red_low
    assert red_high
    assert max(red_high) < min(red_low)
    blue = rows(low, (40, 90, 200))
    assert min(red_low) > max(blue) > min(red_high)  # the points at 0.5 lie between
