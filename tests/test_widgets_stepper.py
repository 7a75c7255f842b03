"""LoopStepper on a live Experiment (TINY preset, one round), without a browser: the stage pointer
advances, each stage's output appears, a failing stage is shown with its traceback and the
stepper stays usable, clicks arrive as messages, and the static twin reads the run directory."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from gameon_nb.config import RunConfig, SimConfig, override
from gameon_nb.loop import PRESETS, STAGES, TINY, Experiment
from gameon_nb.loop import events as ev
from gameon_nb.widgets import (
    JudgementCard,
    LearningCurves,
    LoopStepper,
    RolloutViewer,
    SkillLibraryView,
    stepper_html,
)
from gameon_nb.widgets.encoding import decode_image
from gameon_nb.widgets.stages import StageRecord, stage_records
from gameon_nb.widgets.stepper import ALL_STAGES, StageError, button_states
from gameon_nb.widgets.verdicts import episode_verdicts

ONE_ROUND = [*TINY, "loop.rounds=1", "loop.eval_episodes=1", "learner.eval_envs=16"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
READABLE = 240
"""Width in pixels below which the blocks of a view frame blur into blobs (64 did)."""


def _html_outputs(stepper: LoopStepper) -> str:
    return "".join(str(o["data"].get("text/html", "")) for o in stepper.output.outputs)


def _stages_shown(stepper: LoopStepper) -> list[str]:
    return re.findall(r'class="gameon-stage" data-stage="(\w+)"', _html_outputs(stepper))


@dataclass
class Observed:
    """What the stepper looked like along the way."""

    root: Path
    stepper: LoopStepper
    pointer: list[tuple[int, str]] = field(default_factory=list)
    shown: dict[str, list[str]] = field(default_factory=dict)
    live: dict[str, list[object]] = field(default_factory=dict)
    error: str = ""
    after_error: dict[str, Any] = field(default_factory=dict)
    verdicts: dict[str, list[list[bool | None]]] = field(default_factory=dict)
    """Stage -> each live RolloutViewer's verdicts per segment, as the stage's output was shown."""


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Observed:
    """Step a one-round TINY run through the stepper: setup and the stages up to retrieve one by
    one, then a click on 'collect' whose stage crashes once, then a click on 'grow'."""
    root = tmp_path_factory.mktemp("stepper")
    exp = Experiment(root, override(RunConfig(), ONE_ROUND))
    stepper = LoopStepper(exp, progress=False)
    seen = Observed(root, stepper)
    assert stepper.output.outputs == ()

    def note(stage: str) -> None:
        seen.pointer.append((exp.round, exp.next_stage))
        seen.shown[stage] = _stages_shown(stepper)
        seen.live[stage] = list(stepper._live)

    for stage in ("setup", "propose", "decompose", "retrieve"):
        assert stepper.step() is not None
        note(stage)

    crashes = []

    def crash() -> dict[str, Any]:
        crashes.append(1)
        del exp._collect  # type: ignore[attr-defined]  # the next attempt runs the real stage
        raise RuntimeError("simulated collector crash")

    exp._collect = crash  # type: ignore[method-assign]
    stepper._on_message(stepper.controls, {"type": "run", "stage": "collect", "request": 1}, [])
    seen.error = stepper.error
    seen.after_error = {
        "next": exp.next_stage,
        "running": stepper.running,
        "queue": list(stepper.controls.queue),
        "handled": stepper.controls.handled,
        "buttons": [b["state"] for b in stepper.controls.buttons],
        "crashes": len(crashes),
    }
    render = stepper._render

    def rendered(record: StageRecord, events: list[ev.Event]) -> None:
        render(record, events)
        viewers = [w for w in stepper._live if isinstance(w, RolloutViewer)]
        seen.verdicts[record.stage] = [[s["verdict"] for s in v.segments] for v in viewers]

    stepper._render = rendered  # type: ignore[method-assign]
    stepper._on_message(stepper.controls, {"type": "run", "stage": "grow", "request": 2}, [])
    del stepper._render
    note("grow")
    return seen


def test_button_states() -> None:
    assert [b["state"] for b in button_states("setup")] == ["next"] + ["todo"] * 9
    assert [b["state"] for b in button_states("train")] == ["done"] * 6 + ["next"] + ["todo"] * 3
    assert {b["state"] for b in button_states("done")} == {"done"}
    assert [b["stage"] for b in button_states("propose")] == list(ALL_STAGES)
    with pytest.raises(ValueError, match="known"):
        button_states("dance")


def test_the_stage_pointer_advances(observed: Observed) -> None:
    assert observed.pointer[:4] == [
        (1, "propose"),
        (1, "decompose"),
        (1, "retrieve"),
        (1, "collect"),
    ]
    assert observed.pointer[-1] == (1, "done")
    assert observed.stepper.controls.next_stage == "done"
    assert {b["state"] for b in observed.stepper.controls.buttons} == {"done"}
    assert observed.stepper.controls.stopped == "round budget spent"
    assert observed.stepper.controls.handled == 2


def test_each_stage_output_appears(observed: Observed) -> None:
    assert observed.shown["setup"] == ["setup"]
    assert observed.shown["propose"] == ["propose"]  # round 1 starts below setup's, folded
    assert observed.shown["retrieve"] == ["propose", "decompose", "retrieve"]
    assert observed.shown["grow"] == list(STAGES)
    stepper = observed.stepper
    html = _html_outputs(stepper)
    task = ev.EventLog(observed.root / "events.jsonl").read(ev.TaskProposed)[-1].task
    assert re.search(rf'class="gameon-task"[^>]*>{re.escape(task)}<', html)
    assert 'class="gameon-scene" src="data:image/png;base64,' in html
    assert 'class="gameon-retrieval"' in html
    assert "gameon-verdicts" in html
    assert "gameon-analysis" in html
    shown = observed.live["grow"]
    for widget in (RolloutViewer, JudgementCard, LearningCurves, SkillLibraryView):
        assert any(isinstance(w, widget) for w in shown), widget
    viewer = next(w for w in stepper._live if isinstance(w, RolloutViewer))
    assert viewer.frames["experimenter"], "the rollout has no frames"
    assert viewer.task == task
    widget_views = [o for o in stepper.output.outputs if WIDGET_VIEW in o["data"]]
    assert len(widget_views) >= 4
    assert all("text/html" in o["data"] for o in widget_views)  # each with its static twin
    timings = stepper.controls.timings
    assert set(timings) == set(STAGES)
    assert all(isinstance(s, float) for s in timings.values())
    # setup's output is still there, collapsed above round 1's
    earlier = stepper.history.value
    assert re.findall(r'<details class="gameon-stepper-round" data-round="(\d+)"', earlier) == ["0"]
    assert re.findall(r'data-stage="(\w+)" data-round="0"', earlier) == ["setup"]
    assert 'class="gameon-evaluation"' in earlier


def test_a_failing_stage_is_shown_and_the_stepper_stays_usable(observed: Observed) -> None:
    error = observed.error
    assert "stage 'collect' of round 1 failed" in error
    assert "Traceback (most recent call last)" in error
    assert "RuntimeError: simulated collector crash" in error
    after = observed.after_error
    assert after["crashes"] == 1
    assert after["next"] == "collect"  # not skipped
    assert after["running"] == ""
    assert after["queue"] == []
    assert after["handled"] == 1
    assert after["buttons"] == ["done"] * 4 + ["next"] + ["todo"] * 5
    # the next click resumed the stage and ran the round to its end, clearing the error
    assert observed.stepper.error == ""
    records = stage_records(ev.EventLog(observed.root / "events.jsonl").read())
    assert [r.stage for r in records if r.finished is None] == []
    collect = [r for r in records if r.stage == "collect"]
    assert len(collect) == 1
    assert collect[0].of(ev.EpisodeCollected)


def test_static_twin_and_stepper_html(observed: Observed) -> None:
    stepper = observed.stepper
    twin = stepper.to_html()
    assert twin == stepper_html(observed.root)
    assert "<script" not in twin
    assert re.findall(r'data-stage="(\w+)" data-round="1"', twin) == list(STAGES)
    assert re.findall(r'gameon-stepper-stage" data-stage="(\w+)" data-state="done"', twin) == list(
        ALL_STAGES
    )
    assert "finished: round budget spent" in twin
    bundle = stepper._repr_mimebundle_()
    assert bundle is not None
    assert WIDGET_VIEW in bundle[0]
    assert bundle[0]["text/html"] == twin
    assert re.findall(r'data-stage="(\w+)" data-round="0"', twin) == ["setup"]  # folded
    assert twin.index('data-round="0"') < twin.index('data-stage="propose" data-round="1"')
    alone = stepper_html(observed.root, earlier=False)
    assert 'data-round="0"' not in alone
    setup = stepper_html(observed.root, round=0)
    assert re.findall(r'data-stage="(\w+)" data-round="0"', setup) == ["setup"]
    assert 'class="gameon-evaluation"' in setup
    with pytest.raises(FileNotFoundError, match="no run"):
        stepper_html(observed.root / "nowhere")


def test_a_new_stepper_on_the_run_shows_what_the_log_holds(observed: Observed) -> None:
    again = LoopStepper(observed.root, progress=False)
    assert again.next_stage == "done"
    assert _stages_shown(again) == list(STAGES)
    assert again.controls.shown_round == 1
    # a click on a finished run does nothing, but is acknowledged
    again._on_message(again.controls, {"type": "round", "request": 7}, [])
    assert again.controls.handled == 7
    with pytest.raises(RuntimeError, match="is done"):
        again.step()
    again.close()


def test_errors_can_also_be_raised_and_busy_clicks_are_ignored(tmp_path: Path) -> None:
    exp = Experiment(tmp_path, override(RunConfig(), ONE_ROUND))

    def broken() -> dict[str, Any]:
        raise ValueError("bad setup")

    exp._setup = broken  # type: ignore[method-assign]
    stepper = LoopStepper(exp, progress=False, raise_errors=True)
    with pytest.raises(StageError, match="bad setup"):
        stepper.step()
    assert "ValueError: bad setup" in stepper.error
    assert exp.next_stage == "setup"
    stepper.controls.running = "setup"  # as if a stage were running: a click must not start one
    stepper._on_message(stepper.controls, {"type": "run", "stage": "setup", "request": 3}, [])
    assert stepper.controls.handled == 3
    assert "ValueError: bad setup" in stepper.error  # nothing ran
    with pytest.raises(ValueError, match="unknown stage"):
        stepper.plan("dance")
    stepper.controls.running = ""
    stepper._on_message(stepper.controls, {"type": "run", "stage": "dance", "request": 4}, [])
    assert stepper.error.startswith("cannot run 'dance': unknown stage 'dance'")
    assert stepper.controls.handled == 4
    assert stepper.plan("retrieve") == ["setup", "propose", "decompose", "retrieve"]


def test_stage_records_join_a_resumed_attempt() -> None:
    def collected(episode: int) -> ev.EpisodeCollected:
        return ev.EpisodeCollected(
            round=1, stage="collect", episode=episode, skills=["x"], outcomes=[True], steps=3
        )

    log: list[ev.Event] = [
        ev.StageStarted(round=1, stage="retrieve"),
        ev.StageFinished(round=1, stage="retrieve", seconds=0.1),
        ev.StageStarted(round=1, stage="collect"),
        collected(5),  # then the process died
        ev.StageStarted(round=1, stage="collect", resumed=True),
        collected(6),
        ev.StageFinished(round=1, stage="collect", seconds=2.0),
        ev.StageStarted(round=1, stage="judge"),  # cut short, not resumed yet
    ]
    records = stage_records(log)
    assert [(r.stage, r.finished is not None) for r in records] == [
        ("retrieve", True),
        ("collect", True),
        ("judge", False),
    ]
    assert [e.episode for e in records[1].of(ev.EpisodeCollected)] == [5, 6]
    assert records[1].summary == {}
    assert records[2].events == []


def test_the_judges_verdicts_reach_the_rollout_shown_before_it(observed: Observed) -> None:
    stepper = observed.stepper
    (viewer,) = [w for w in stepper._live if isinstance(w, RolloutViewer)]
    assert viewer.episode_id is not None
    assert observed.verdicts["collect"] == [[None] * len(viewer.segments)]  # not judged yet
    events = ev.EventLog(observed.root / "events.jsonl").read()
    logged = episode_verdicts(events, viewer.episode_id, len(viewer.segments))
    judged = [j for j in logged if j is not None]
    assert len(judged) == len(logged)  # TINY judges every execution
    words = [j.success for j in judged]
    assert observed.verdicts["judge"] == [words]
    assert [s["verdict"] for s in viewer.segments] == words
    assert [s["reasoning"] for s in viewer.segments] == [j.reasoning for j in judged]
    assert all(s["agreement"] in ("agree", "disagree") for s in viewer.segments)
    # the static twin of the collect stage and a new stepper's viewer say the same
    collect = BeautifulSoup(stepper.to_html(), "html.parser").select_one(
        '.gameon-stage[data-stage="collect"]'
    )
    assert collect is not None
    verdicts = [seg["data-verdict"] for seg in collect.select(".gameon-segment")]
    assert verdicts == [str(w).lower() for w in words]
    again = LoopStepper(observed.root, progress=False)
    (fresh,) = [w for w in again._live if isinstance(w, RolloutViewer)]
    assert fresh.segments == viewer.segments
    again.close()


def test_people_see_frames_at_a_readable_size(observed: Observed) -> None:
    for name, preset in PRESETS.items():
        height, width = override(RunConfig(), preset).sim.view_size
        assert width >= READABLE, name
        assert height >= READABLE * 3 // 4, name
    assert override(RunConfig(), TINY).sim.image_size == SimConfig().image_size  # the policy's
    shown = observed.live["grow"]
    (viewer,) = [w for w in shown if isinstance(w, RolloutViewer)]
    (card,) = [w for w in shown if isinstance(w, JudgementCard)]
    for image in (viewer.frames["experimenter"][0], *card.frames):
        assert decode_image(image).shape[1] >= READABLE
    assert viewer.width >= 2 * READABLE
    assert card.thumb >= READABLE
    steps = ev.EventLog(observed.root / "events.jsonl").read(ev.EpisodeCollected)[0].steps
    assert card.labels[0] == "step 0 / " + str(steps)  # as the viewer labels its steps
