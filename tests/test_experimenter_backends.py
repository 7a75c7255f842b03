"""The gemini and openai backends through their real SDKs against a fake server on 127.0.0.1:
faults and their handling in the call log, the cache, the budget, replay and secrets."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_vlm_server import STEPS, TASK, FakeVLMServer, Text

from gameon_nb.config import ExperimenterConfig
from gameon_nb.experimenter import (
    CurveContext,
    DecompositionContext,
    Experimenter,
    JudgeContext,
    ProposalContext,
    ReplayMissError,
    VLMAuthError,
    read_call_log,
)
from gameon_nb.experimenter.ledger import CALL_LOG
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills import SkillLibrary

pytest.importorskip("google.genai")
pytest.importorskip("openai")

APIS = ["gemini", "openai"]
GEMINI_KEY = "AIzaFAKE-gemini-key-0123456789abcdef"
OPENAI_KEY = "sk-FAKE-openai-key-0123456789abcdef"


@pytest.fixture
def server() -> Iterator[FakeVLMServer]:
    with FakeVLMServer(sleep_s=0.8) as fake:
        yield fake


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    for name in ("GOOGLE_API_KEY", "GEMINI_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def config(server: FakeVLMServer, backend: str, **fields: Any) -> ExperimenterConfig:
    """Tiny backoffs and timeouts, so faults cost milliseconds."""
    base = ExperimenterConfig(
        backend=backend,
        gemini_base_url=server.gemini_url,
        openai_base_url=server.openai_url,
        max_retries=2,
        backoff_s=0.001,
        backoff_max_s=0.005,
        timeout_s=0.4,
    )
    return dataclasses.replace(base, **fields)


def records(run_dir: Path) -> list[dict[str, Any]]:
    return list(read_call_log(run_dir / CALL_LOG))


def propose(exp: Experimenter, scene: tuple[np.ndarray, SceneState], round: int = 1) -> Any:
    image, state = scene
    return exp.propose_task(ProposalContext(image, state, SkillLibrary.initial(), round=round))


@pytest.mark.parametrize("api", APIS)
def test_a_good_reply_is_used_and_accounted(api: str, server, scene, tmp_path: Path) -> None:
    exp = Experimenter(config(server, api), tmp_path)
    proposal = propose(exp, scene)
    assert (proposal.task, proposal.backend, proposal.fallback) == (TASK, api, False)
    assert server.count == 1
    sent = server.requests[0]
    prompt, images = FakeVLMServer.prompt_of(api, sent["body"])
    assert "Propose ONE task" in prompt
    assert images == 1
    (record,) = records(tmp_path)
    assert record["prompt"] == prompt
    assert record["parsed"]["task"] == TASK
    assert record["tokens_in"] > 258
    assert record["tokens_out"] > 0
    assert record["cost_usd"] > 0
    usage = exp.usage()
    assert usage["requests"] == 1
    assert usage["by_role"]["proposer"]["tokens_in"] > 0
    assert usage["cost_usd"] == pytest.approx(record["cost_usd"], abs=1e-6)


@pytest.mark.parametrize("api", APIS)
def test_429_then_success_is_retried(api: str, server, scene, tmp_path: Path) -> None:
    server.push("429", "ok")
    proposal = propose(Experimenter(config(server, api), tmp_path), scene)
    assert (proposal.task, proposal.fallback) == (TASK, False)
    assert server.count == 2
    (record,) = records(tmp_path)
    assert record["retries"] == 1
    assert record["error"] is None
    assert [e["code"] for e in record["retry_errors"]] == [429]


@pytest.mark.parametrize("api", APIS)
def test_repeated_500s_fall_back_after_bounded_retries(api, server, scene, tmp_path) -> None:
    server.push("500", "500", "500", "500")
    proposal = propose(Experimenter(config(server, api, max_retries=2), tmp_path), scene)
    assert proposal.fallback
    assert proposal.backend == "scripted"
    assert server.count == 3  # the first try and max_retries retries, then no more
    call, fallback = records(tmp_path)
    assert call["error"]["type"] == "VLMTransportError"
    assert call["attempts"] == 3
    assert [e["code"] for e in call["retry_errors"]] == [500, 500, 500]
    assert fallback["kind"] == "fallback"
    assert fallback["for_calls"] == [call["id"]]
    assert fallback["parsed"]["task"] == proposal.task
    assert proposal.calls == [call["id"], fallback["id"]]


@pytest.mark.parametrize("api", APIS)
def test_a_timeout_is_retried_then_succeeds(api: str, server, scene, tmp_path: Path) -> None:
    server.push("timeout", "ok")
    proposal = propose(Experimenter(config(server, api, timeout_s=0.3), tmp_path), scene)
    assert (proposal.task, proposal.fallback) == (TASK, False)
    (record,) = records(tmp_path)
    assert record["retries"] == 1
    assert record["retry_errors"][0]["code"] is None
    assert "timeout" in record["retry_errors"][0]["error"].lower()


@pytest.mark.parametrize("api", APIS)
def test_a_refused_connection_falls_back(api: str, scene, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    cfg = ExperimenterConfig(
        backend=api,
        gemini_base_url=closed,
        openai_base_url=closed + "/v1",
        max_retries=1,
        backoff_s=0.001,
        timeout_s=2.0,
    )
    proposal = propose(Experimenter(cfg, tmp_path), scene)
    assert proposal.fallback
    call, _ = records(tmp_path)
    assert call["error"]["type"] == "VLMTransportError"
    assert len(call["retry_errors"]) == 2
    assert "connect" in call["retry_errors"][0]["error"].lower()


@pytest.mark.parametrize("api", APIS)
def test_malformed_json_gets_one_repair(api: str, server, scene, tmp_path: Path) -> None:
    server.push("malformed", "ok")
    proposal = propose(Experimenter(config(server, api), tmp_path), scene)
    assert (proposal.task, proposal.fallback, proposal.backend) == (TASK, False, api)
    first, repair = records(tmp_path)
    assert first["error"]["kind"] == "invalid_json"
    assert first["response"].startswith("{")
    assert repair["attempt"] == "repair"
    assert repair["error"] is None
    assert "Your previous reply was" in repair["prompt"]
    assert first["response"] in repair["prompt"]
    assert proposal.calls == [first["id"], repair["id"]]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    ("faults", "kind"),
    [
        (["malformed", "malformed"], "invalid_json"),
        ([Text('{"reasoning": "x", "task": "lift the purple block"}')] * 2, "not_in_scene"),
        (["empty", "empty"], "empty"),
        (["safety", "safety"], "blocked"),
        ([Text('{"reasoning": "x"}')] * 2, "schema"),
    ],
)
def test_an_unusable_reply_twice_falls_back(api, faults, kind, server, scene, tmp_path) -> None:
    server.push(*faults)
    proposal = propose(Experimenter(config(server, api), tmp_path), scene)
    assert proposal.fallback
    assert proposal.backend == "scripted"
    assert server.count == 2  # the question and one repair, no more
    first, repair, fallback = records(tmp_path)
    assert first["error"]["kind"] == kind
    assert repair["error"]["kind"] == kind
    assert fallback["reason"]["kind"] == kind
    assert fallback["for_calls"] == [
        first["id"],
        repair["id"],
    ]


def test_openai_content_filter_is_a_blocked_reply(server, scene, tmp_path: Path) -> None:
    server.push("content_filter", "ok")
    proposal = propose(Experimenter(config(server, "openai"), tmp_path), scene)
    assert not proposal.fallback
    assert records(tmp_path)[0]["error"]["kind"] == "blocked"


@pytest.mark.parametrize("api", APIS)
def test_a_step_naming_no_skill_is_repaired_then_falls_back(api, server, scene, tmp_path) -> None:
    image, state = scene
    bad = Text(
        json.dumps({"reasoning": "x", "steps": ["grasp the red block", "juggle the blocks"]})
    )
    server.push(bad, bad)
    exp = Experimenter(config(server, api), tmp_path)
    plan = exp.decompose_task(TASK, DecompositionContext(image, state, SkillLibrary.initial()))
    assert plan.fallback
    assert plan.steps == STEPS
    assert [r.skill for r in plan.retrievals] == STEPS
    first, repair, _ = records(tmp_path)
    assert first["error"]["kind"] == "unknown_skill"
    assert "juggle the blocks" in repair["prompt"]


@pytest.mark.parametrize("api", APIS)
def test_every_role_through_the_sdk(api: str, server, scene, tmp_path: Path) -> None:
    image, state = scene
    exp = Experimenter(config(server, api), tmp_path)
    plan = exp.decompose_task(TASK, DecompositionContext(image, state, SkillLibrary.initial()))
    assert (plan.steps, plan.skills, plan.fallback) == (STEPS, STEPS, False)
    verdict = exp.judge_success(JudgeContext("lift the red block", [image, image, image]))
    assert verdict.answer == verdict.options[0]
    assert not verdict.fallback
    assert verdict.success == (verdict.options[0] in ("yes", "success"))
    curve = [{"round": r, "rate": 0.9, "episodes": 20} for r in range(1, 5)]
    progress = exp.analyse_progress(CurveContext("lift the red block", curve, 0.8))
    assert (progress.learned, progress.add_to_library, progress.keep_training) == (
        True,
        True,
        False,
    )
    sent = [FakeVLMServer.prompt_of(api, r["body"])[1] for r in server.requests]
    assert sent == [1, 2, 1]  # scene, first and last frame, the plot


@pytest.mark.parametrize("api", APIS)
def test_a_cache_hit_sends_nothing(api: str, server, scene, tmp_path: Path) -> None:
    first = propose(Experimenter(config(server, api), tmp_path), scene)
    again = Experimenter(config(server, api), tmp_path)  # a resumed run: same cache on disk
    second = propose(again, scene)
    assert server.count == 1
    assert second.task == first.task
    assert not second.fallback
    assert records(tmp_path)[-1]["cache_hit"] is True
    assert again.usage()["cache_hits"] == 1
    assert again.usage()["requests"] == 1
    propose(Experimenter(config(server, api, cache=False), tmp_path), scene)
    assert server.count == 2


@pytest.mark.parametrize("api", APIS)
def test_the_budget_cap_refuses_and_the_call_falls_back(api, server, scene, tmp_path) -> None:
    exp = Experimenter(config(server, api, budget_usd=1e-4), tmp_path)
    proposal = propose(exp, scene)
    assert proposal.fallback
    assert server.count == 0
    call, fallback = records(tmp_path)
    assert call["error"]["type"] == "BudgetExceededError"
    assert call["sent"] is False
    assert "budget" in call["error"]["message"]
    assert fallback["reason"]["type"] == "BudgetExceededError"


def test_spending_is_read_back_on_resume(server, scene, tmp_path: Path) -> None:
    exp = Experimenter(config(server, "gemini", budget_usd=0.02), tmp_path)
    propose(exp, scene)
    spent = exp.usage()["cost_usd"]
    assert spent > 0
    resumed = Experimenter(config(server, "gemini", budget_usd=spent + 1e-6, cache=False), tmp_path)
    assert resumed.usage()["cost_usd"] == pytest.approx(spent)
    assert propose(resumed, scene, round=2).fallback  # what was spent before still counts
    assert server.count == 1


@pytest.mark.parametrize("api", APIS)
def test_a_refused_key_raises_without_the_key(api: str, server, scene, tmp_path) -> None:
    server.push("401")
    with pytest.raises(VLMAuthError) as error:
        propose(Experimenter(config(server, api), tmp_path), scene)
    assert error.value.code == 401
    # the server's message repeated the key: the error says it was refused, not what it was
    assert "API key not valid: [redacted]" in str(error.value)
    assert GEMINI_KEY not in str(error.value)
    assert OPENAI_KEY not in str(error.value)
    assert records(tmp_path)[0]["error"]["type"] == "VLMAuthError"


def test_the_key_never_reaches_a_file(server, scene, tmp_path: Path) -> None:
    image, state = scene
    for api in APIS:
        run_dir = tmp_path / api
        exp = Experimenter(config(server, api, max_retries=1), run_dir)
        key = GEMINI_KEY if api == "gemini" else OPENAI_KEY
        echo = Text(json.dumps({"reasoning": f"you sent {key}", "task": TASK}))
        server.push("echo_headers", "429", echo, "malformed", "ok")
        propose(exp, scene)  # a 400 whose body repeats the headers, key included: falls back
        said = propose(exp, scene, round=2)  # 429, then a reply that repeats the key
        assert key not in said.reasoning
        assert "[redacted]" in said.reasoning
        exp.decompose_task(TASK, DecompositionContext(image, state, SkillLibrary.initial()))
        exp.judge_success(JudgeContext("open the gripper", [image, image], ground_truth=True))
        for role in ("proposer", "judge"):
            assert GEMINI_KEY not in repr(exp.backend(role))
            assert OPENAI_KEY not in repr(exp.backend(role))
        assert GEMINI_KEY not in repr(exp)
        assert OPENAI_KEY not in repr(exp.ledger)
    echoed = [r for r in server.requests if r["fault"] == "echo_headers"]
    assert len(echoed) == 2  # the server did see (and echo) both keys
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == CALL_LOG for p in written)
    assert any("vlm_cache" in str(p) for p in written)
    for path in written:
        data = path.read_bytes()
        assert GEMINI_KEY.encode() not in data, path
        assert OPENAI_KEY.encode() not in data, path
    logged = [r for api in APIS for r in records(tmp_path / api)]
    assert any("[redacted]" in json.dumps(r) for r in logged)  # the echo was there, redacted


def test_replay_reproduces_a_recorded_session(server, scene, tmp_path: Path) -> None:
    image, state = scene
    library = SkillLibrary.initial()
    segment = [np.roll(image, 3, axis=1), image]
    curve = [{"round": r, "rate": 0.2 * r, "episodes": 10} for r in range(1, 5)]

    def session(exp: Experimenter) -> list[dict[str, Any]]:
        decisions = [
            propose(exp, scene),
            propose(exp, scene, round=2),
            exp.decompose_task(TASK, DecompositionContext(image, state, library)),
            exp.judge_success(JudgeContext("lift the red block", segment, ground_truth=False)),
            exp.analyse_progress(CurveContext("lift the red block", curve, 0.8)),
        ]
        return [{k: v for k, v in d.to_json().items() if k != "calls"} for d in decisions]

    server.push("malformed", "ok", "500", "500", "500")  # a repair, then a fallback
    recorded = session(Experimenter(config(server, "gemini"), tmp_path / "live"))
    assert [d["fallback"] for d in recorded] == [False, True, False, False, False]
    sent = server.count
    log = str(tmp_path / "live" / CALL_LOG)
    replay = Experimenter(config(server, "replay", replay_log=log), tmp_path / "replayed")
    replayed = session(replay)
    assert server.count == sent  # nothing went to the server
    strip = [{k: v for k, v in d.items() if k != "backend"} for d in recorded]
    assert [{k: v for k, v in d.items() if k != "backend"} for d in replayed] == strip

    image_b = np.flip(image, axis=0).copy()  # a scene never recorded: a miss
    with pytest.raises(ReplayMissError):
        replay.propose_task(ProposalContext(image_b, state, library, round=9))
    fallback = config(server, "replay", replay_log=log, replay_fallback="scripted")
    answered = Experimenter(fallback, tmp_path / "fallback")
    assert answered.propose_task(ProposalContext(image_b, state, library, round=9)).task


def test_replay_reproduces_a_scripted_session(scene, tmp_path: Path) -> None:
    image, state = scene
    library = SkillLibrary.initial()

    def run(exp: Experimenter) -> list[Any]:
        out: list[Any] = []
        for r in range(1, 4):
            p = exp.propose_task(ProposalContext(image, state, library, round=r))
            plan = exp.decompose_task(p.task, DecompositionContext(image, state, library, r))
            verdict = exp.judge_success(JudgeContext(p.task, [image], ground_truth=r % 2 == 0))
            out.append((p.task, plan.steps, verdict.success))
        return out

    recorded = run(Experimenter(ExperimenterConfig(), tmp_path / "a", seed=3))
    log = str(tmp_path / "a" / CALL_LOG)
    cfg = ExperimenterConfig(backend="replay", replay_log=log)
    assert run(Experimenter(cfg, tmp_path / "b", seed=3)) == recorded
