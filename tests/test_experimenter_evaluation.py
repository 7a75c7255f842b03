"""Agreement figures: Cohen's kappa by hand, the judge on recorded segments (scripted and through
the gemini SDK), the analyst on rule-labelled curves, and `gameon judge-eval`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_vlm_server import FakeVLMServer

from gameon_nb.cli import main
from gameon_nb.config import ExperimenterConfig
from gameon_nb.data.store import EpisodeStore
from gameon_nb.experimenter import Experimenter, analyst_agreement, judge_agreement
from gameon_nb.experimenter.curves import CURVE_KINDS, label_curve, synthetic_curves
from gameon_nb.experimenter.evaluation import (
    agreement,
    cohen_kappa,
    library_curves,
    recorded_segments,
)
from gameon_nb.skills import SkillLibrary


def always_success(prompt: str) -> str:
    """A judge that says success whatever it sees, and an analyst that says learned and flat."""
    if "Answer with exactly one of" in prompt:
        options = re.findall(r'"(\w+)"', prompt.split("Answer with exactly one of")[1])
        answer = "yes" if "yes" in options else "success"
        return json.dumps({"reasoning": "it worked", "answer": answer})
    flags = {"learned": True, "converged": True, "add_to_library": True, "keep_training": False}
    return json.dumps({"reasoning": "fine", **flags})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVLMServer]:
    monkeypatch.setenv("GEMINI_API_KEY", "fake-key-for-the-evaluation-tests")
    monkeypatch.delenv("GEMINI_BASE_URL", raising=False)
    with FakeVLMServer(reply=always_success) as fake:
        yield fake


def test_cohen_kappa_by_hand() -> None:
    # observed 3/4; chance 0.5 * 0.25 + 0.5 * 0.75 = 0.5; kappa (0.75 - 0.5) / 0.5
    assert cohen_kappa([True, True, False, False], [True, False, False, False]) == 0.5
    assert cohen_kappa([True, False, True], [True, False, True]) == 1.0
    assert cohen_kappa([True, False], [False, True]) == -1.0
    assert cohen_kappa([True, True], [True, True]) is None  # one class: chance agreement is 1
    report = agreement([True, True, False, False, True], [True, False, True, False, True])
    assert report["confusion"] == {
        "true_positive": 2,
        "false_positive": 1,
        "false_negative": 1,
        "true_negative": 1,
    }
    assert (report["count"], report["accuracy"]) == (5, 0.6)


def test_synthetic_curves_are_seeded_and_rule_labelled() -> None:
    curves = synthetic_curves(seed=3, per_kind=4, rounds=8)
    assert [c.kind for c in curves] == [k for k in CURVE_KINDS for _ in range(4)]
    assert [c.curve for c in synthetic_curves(seed=3, per_kind=4)] == [c.curve for c in curves]
    assert [c.curve for c in synthetic_curves(seed=4, per_kind=4)] != [c.curve for c in curves]
    for c in curves:
        assert c.label == label_curve(c.curve, c.threshold)
        assert all(p["rate"] * p["episodes"] == int(p["rate"] * p["episodes"]) for p in c.curve)
    by_kind = {k: [c.label for c in curves if c.kind == k] for k in CURVE_KINDS}
    assert all(not label.learned for label in by_kind["collapse"])
    assert sum(label.learned and label.converged for label in by_kind["converged"]) >= 3
    assert sum(label.learned for label in by_kind["noisy_plateau"]) == 0


def test_the_scripted_analyst_is_the_reference(tmp_path: Path) -> None:
    curves = synthetic_curves(seed=0, per_kind=3)
    report = analyst_agreement(Experimenter(ExperimenterConfig(), tmp_path), curves)
    assert (report["count"], report["exact"], report["fallbacks"]) == (12, 1.0, 0)
    assert set(report["by_kind"]) == set(CURVE_KINDS)


def test_analyst_agreement_through_the_sdk(server: FakeVLMServer, tmp_path: Path) -> None:
    library = SkillLibrary.initial()
    for r, rate in enumerate([0.2, 0.9, 0.9, 0.9]):
        library.record_success("lift the red block", round=r + 1, rate=rate, episodes=20)
    curves = synthetic_curves(seed=1, per_kind=2) + library_curves(library)
    cfg = ExperimenterConfig(backend="gemini", gemini_base_url=server.gemini_url)
    report = analyst_agreement(Experimenter(cfg, tmp_path), curves)
    assert server.count == len(curves) == 9
    # the fake analyst always says learned: its agreement on that flag is the share of learned
    learned = [c.label.learned for c in curves]
    assert report["by_flag"]["learned"]["accuracy"] == round(sum(learned) / len(learned), 4)
    assert report["by_kind"]["real"] == 1.0  # the real curve is learned and flat


def test_the_scripted_judge_agrees_with_ground_truth(small_run: Path, tmp_path: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    segments = list(recorded_segments(store))
    assert len(segments) == sum(len(store.meta(i)["skills"]) for i in store.ids())
    report = judge_agreement(Experimenter(ExperimenterConfig(), tmp_path), store)
    assert (report["count"], report["accuracy"], report["fallbacks"]) == (len(segments), 1.0, 0)
    confusion = report["confusion"]
    assert confusion["true_positive"] == sum(s.ground_truth for s in segments)
    assert confusion["false_positive"] == confusion["false_negative"] == 0


def test_a_judge_that_always_says_success(small_run: Path, server, tmp_path: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    truth = [s.ground_truth for s in recorded_segments(store, limit=6)]
    cfg = ExperimenterConfig(backend="gemini", gemini_base_url=server.gemini_url)
    report = judge_agreement(Experimenter(cfg, tmp_path), store, segments=6)
    assert server.count == 6
    assert report["accuracy"] == round(sum(truth) / 6, 4)
    assert report["kappa"] == (0.0 if 0 < sum(truth) < 6 else None)
    images = [FakeVLMServer.prompt_of("gemini", r["body"])[1] for r in server.requests]
    assert images == [2] * 6  # first and last frame of each segment


def test_judge_eval_cli(small_run: Path, server, tmp_path: Path, capsys) -> None:
    before = sorted(p.relative_to(small_run) for p in small_run.rglob("*"))
    args = ["judge-eval", "--run-dir", str(small_run), "--segments", "4", "--json"]
    assert main([*args, "--out", str(tmp_path / "scripted")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["backend"], report["count"], report["accuracy"]) == ("scripted", 4, 1.0)
    set_url = f"experimenter.gemini_base_url={server.gemini_url}"
    gemini = [*args, "--backend", "gemini", "--set", set_url, "--out", str(tmp_path / "g")]
    assert main(gemini) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["backend"], report["count"], report["fallbacks"]) == ("gemini", 4, 0)
    assert report["usage"]["requests"] == server.count == 4
    assert (tmp_path / "g" / "calls.jsonl").exists()
    with pytest.raises(SystemExit) as refused:  # the config refuses it, before any work
        main([*args, "--backend", "nope", "--out", str(tmp_path / "n")])
    assert refused.value.code == 2
    assert "backend is 'nope'; it accepts" in capsys.readouterr().err
    assert sorted(p.relative_to(small_run) for p in small_run.rglob("*")) == before


def test_judge_eval_is_cached_per_backend(small_run: Path, server, tmp_path: Path) -> None:
    cfg = ExperimenterConfig(backend="gemini", gemini_base_url=server.gemini_url)
    store = EpisodeStore(small_run / "episodes")
    first = judge_agreement(Experimenter(cfg, tmp_path), store, segments=3)
    again = judge_agreement(Experimenter(cfg, tmp_path), store, segments=3)
    assert server.count == 3
    assert {k: first[k] for k in ("accuracy", "confusion")} == {
        k: again[k] for k in ("accuracy", "confusion")
    }
    assert again["usage"]["cache_hits"] == 3


def test_a_judge_that_is_down_gives_no_agreement(
    small_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "fake-key-for-the-evaluation-tests")
    store = EpisodeStore(small_run / "episodes")
    # nothing listens on this port: every call fails and the scripted judge answers instead
    down = ExperimenterConfig(
        backend="gemini", gemini_base_url="http://127.0.0.1:9", max_retries=0, backoff_s=0.0
    )
    report = judge_agreement(Experimenter(down, tmp_path), store, segments=4)
    assert (report["count"], report["fallbacks"]) == (0, 4)
    assert report["accuracy"] is None  # not 1.0, although every fallback verdict was right
    assert report["kappa"] is None


def test_agreement_counts_only_the_judges_own_verdicts(small_run, server, tmp_path) -> None:
    store = EpisodeStore(small_run / "episodes")
    truth = [s.ground_truth for s in recorded_segments(store, limit=6)]
    server.push("ok", "ok", "500", "ok", "ok", "ok")  # the third falls back: no retries left
    cfg = ExperimenterConfig(backend="gemini", gemini_base_url=server.gemini_url, max_retries=0)
    report = judge_agreement(Experimenter(cfg, tmp_path), store, segments=6)
    own = truth[:2] + truth[3:]  # the judge says success each time it answers itself
    assert (report["count"], report["fallbacks"]) == (5, 1)
    assert report["accuracy"] == round(sum(own) / 5, 4)
    assert report["confusion"]["true_positive"] == sum(own)
    assert report["confusion"]["false_positive"] == 5 - sum(own)
