"""The ledger on its own: backoff arithmetic, prices and worst-case cost by hand, a torn log line,
a damaged cache entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameon_nb.config import ExperimenterConfig
from gameon_nb.experimenter import VLMRequest, VLMResponse, VLMTransportError
from gameon_nb.experimenter.errors import TransientVLMError
from gameon_nb.experimenter.ledger import Ledger, read_call_log
from gameon_nb.experimenter.schemas import ProposalReply, parse_reply

REPLY = json.dumps({"reasoning": "r", "task": "lift the red block"})


class FlakyVLM:
    """Fails with a transient fault `failures` times, then answers; counts what it is sent."""

    name, model, cacheable = "flaky", "gemini-2.5-flash", True

    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, 0

    def secrets(self) -> tuple[str, ...]:
        return ()

    def generate(self, request: VLMRequest) -> VLMResponse:
        self.sent += 1
        if self.sent <= self.failures:
            raise TransientVLMError("503 try later", 503)
        return VLMResponse(REPLY, tokens_in=1000, tokens_out=100, model=self.model)


def request(prompt: str = "p" * 400) -> VLMRequest:
    return VLMRequest("proposer", prompt, (b"png",), ProposalReply, 0.0, 2048)


def validate(text: str) -> ProposalReply:
    return parse_reply(ProposalReply, text)


def test_backoff_doubles_with_jitter_up_to_the_cap(tmp_path: Path) -> None:
    sleeps: list[float] = []
    cfg = ExperimenterConfig(max_retries=4, backoff_s=0.5, backoff_max_s=1.5)
    ledger = Ledger(tmp_path, cfg, sleep=sleeps.append)
    result = ledger.call(FlakyVLM(failures=4), request(), validate)
    assert result.parsed is not None
    assert len(sleeps) == 4
    for k, slept in enumerate(sleeps):
        nominal = min(1.5, 0.5 * 2**k)
        assert 0.75 * nominal <= slept <= min(1.25 * nominal, 1.5)
    (record,) = read_call_log(tmp_path / "calls.jsonl")
    assert (record["attempts"], record["retries"]) == (5, 4)


def test_retries_are_bounded(tmp_path: Path) -> None:
    sleeps: list[float] = []
    vlm = FlakyVLM(failures=10)
    ledger = Ledger(tmp_path, ExperimenterConfig(max_retries=2), sleep=sleeps.append)
    result = ledger.call(vlm, request(), validate)
    assert isinstance(result.error, VLMTransportError)
    assert (vlm.sent, len(sleeps)) == (3, 2)  # no sleep after the last attempt


def test_prices_and_worst_case_cost_by_hand(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, ExperimenterConfig())
    assert ledger.price("gemini-2.5-flash") == (0.30, 2.50)
    assert ledger.price("gemini-2.5-flash-001") == (0.30, 2.50)  # a versioned id
    assert ledger.price("gpt-4o-mini") == (0.15, 0.60)  # not gpt-4o's
    assert ledger.price("llava:13b") == (0.0, 0.0)  # unknown: free
    # 400 characters are 100 tokens, one image 258; 2048 tokens out at most
    expected = (358 * 0.30 + 2048 * 2.50) / 1e6
    assert ledger.worst_case_cost(FlakyVLM(0), request()) == pytest.approx(expected)
    ledger.call(FlakyVLM(0), request(), validate)
    assert ledger.usage()["cost_usd"] == pytest.approx((1000 * 0.30 + 100 * 2.50) / 1e6)


def test_a_torn_last_line_is_skipped_on_resume(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, ExperimenterConfig(cache=False))
    ledger.call(FlakyVLM(0), request(), validate)
    ledger.call(FlakyVLM(0), request(), validate)
    with open(tmp_path / "calls.jsonl", "a") as log:
        log.write('{"id": "c000002", "kind": "call", "role": "prop')  # killed mid-write
    resumed = Ledger(tmp_path, ExperimenterConfig(cache=False))
    assert resumed.usage()["calls"] == 2
    assert resumed.usage()["cost_usd"] == pytest.approx(ledger.usage()["cost_usd"])
    resumed.call(FlakyVLM(0), request(), validate)  # starts a line of its own
    assert [r["id"] for r in read_call_log(tmp_path / "calls.jsonl")] == [
        "c000000",
        "c000001",
        "c000002",
    ]


def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, ExperimenterConfig())
    vlm = FlakyVLM(0)
    ledger.call(vlm, request(), validate)
    assert ledger.call(vlm, request(), validate).cache_hit
    (entry,) = (tmp_path / "vlm_cache").rglob("*.json")
    entry.write_text("{not json")
    again = ledger.call(vlm, request(), validate)
    assert (again.cache_hit, vlm.sent) == (False, 2)
    assert again.parsed is not None
