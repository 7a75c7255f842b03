"""The ledger around every VLM call: cache, budget, retries with backoff, and the JSONL call log.

    >>> ledger = Ledger(run.root, config.experimenter, seed=0)    # its directory: a run's root
    >>> result = ledger.call(vlm, request, validate, decision="d000003")
    >>> result.parsed or result.error          # a Reply, or the VLMError that stopped it
    >>> ledger.usage()["cost_usd"]

One line per call in calls.jsonl in the ledger's directory (a `CallRecord`: prompt, image hashes,
response, parsed result, tokens, cost, latency, error, retries) and one per fallback (a
`FallbackRecord`); answers cached under vlm_cache/ beside it by a hash of everything that decides
them. The directory is a run's root, or judge_eval/<backend>/ of one for `gameon judge-eval`.
Totals are read back from the log, so a resumed run keeps its spending. Known secrets are replaced
before anything is written.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, NotRequired, TypedDict

from gameon_nb.atomic import atomic_write_text
from gameon_nb.config import ExperimenterConfig
from gameon_nb.experimenter.errors import (
    BudgetExceededError,
    ReplayMissError,
    ResponseFault,
    TransientVLMError,
    VLMApiError,
    VLMAuthError,
    VLMError,
    VLMResponseError,
    VLMTransportError,
)
from gameon_nb.experimenter.protocol import VLM, VLMRequest, VLMResponse, request_hash, sha256
from gameon_nb.experimenter.schemas import Reply, schema_json
from gameon_nb.records import JsonObject, from_json

__all__ = [
    "CACHE_DIR",
    "CALL_LOG",
    "CallRecord",
    "CallResult",
    "ErrorRecord",
    "FallbackRecord",
    "Ledger",
    "LogRecord",
    "RetryFault",
    "Totals",
    "Usage",
    "read_call_log",
]

CALL_LOG = "calls.jsonl"
CACHE_DIR = "vlm_cache"
TOKENS_PER_IMAGE = 258
"""Input tokens counted per image for the budget's worst case (Gemini's rate for a small image)."""
CHARS_PER_TOKEN = 4
"""Prompt characters per input token, for the budget's worst case."""
REDACTED = "[redacted]"
MIN_SECRET = 8
"""Shorter values are not treated as secrets (they would redact ordinary words)."""


class ErrorRecord(TypedDict):
    """A VLMError in the call log: its class name and message, with the response fault's kind
    (VLMResponseError) or the HTTP status (API errors) where there is one."""

    type: str
    message: str
    kind: NotRequired[ResponseFault]
    code: NotRequired[int]


class RetryFault(TypedDict):
    """A transient fault a call was retried after."""

    attempt: int
    code: int | None
    error: str


class CallRecord(TypedDict):
    """One call's line in calls.jsonl."""

    id: str
    kind: Literal["call"]
    time: str
    decision: str
    attempt: str
    """What the call was for: "ask", or a repair of an unusable reply."""
    role: str
    backend: str
    model: str
    temperature: float
    schema: str
    prompt: str
    images: list[str]
    """Hashes of the images sent."""
    request_hash: str
    cache_key: str
    cache_hit: bool
    sent: bool
    """The request reached the backend (not a cache hit, not refused by the budget)."""
    response: str | None
    parsed: JsonObject | None
    """The validated reply."""
    response_model: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_s: float
    attempts: int
    retries: int
    retry_errors: list[RetryFault]
    error: ErrorRecord | None
    fallback: bool


class FallbackRecord(TypedDict):
    """A decision's line in calls.jsonl when the scripted rules answered in the backend's place."""

    id: str
    kind: Literal["fallback"]
    time: str
    decision: str
    role: str
    backend: str
    fallback: bool
    for_calls: list[str]
    """The ids of the calls whose replies could not be used."""
    reason: ErrorRecord | None
    parsed: JsonObject


LogRecord = CallRecord | FallbackRecord
"""A line of calls.jsonl; its "kind" tells which."""


class Totals(TypedDict):
    """Calls, cache hits, tokens, cost, errors and fallbacks of a ledger, or of one role."""

    calls: int
    requests: int
    """Calls that reached a backend (not cache hits, not refused by the budget)."""
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    errors: int
    fallbacks: int


class Usage(Totals):
    """`Ledger.usage()`: the totals, the budget, and the totals of each role."""

    budget_usd: float
    by_role: dict[str, Totals]


class _CachedAnswer(TypedDict):
    text: str
    tokens_in: int
    tokens_out: int
    model: str


@dataclass
class CallResult:
    """What one ledger call gave: a validated reply, or the error that stopped it."""

    call_id: str
    parsed: Reply | None = None
    error: VLMError | None = None
    response: VLMResponse | None = None
    cache_hit: bool = False


def _totals() -> Totals:
    return Totals(
        calls=0, requests=0, cache_hits=0, tokens_in=0, tokens_out=0, cost_usd=0.0, errors=0,
        fallbacks=0,
    )  # fmt: skip


def _rounded(totals: Totals) -> Totals:
    return {**totals, "cost_usd": round(totals["cost_usd"], 6)}


@dataclass
class _Usage:
    total: Totals = field(default_factory=_totals)
    by_role: dict[str, Totals] = field(default_factory=dict)

    def add(self, role: str, record: LogRecord) -> None:
        for totals in (self.total, self.by_role.setdefault(role, _totals())):
            if record["kind"] == "fallback":
                totals["fallbacks"] += 1
                continue
            totals["calls"] += 1
            totals["cache_hits"] += bool(record.get("cache_hit"))
            totals["requests"] += bool(record.get("sent"))
            totals["errors"] += record.get("error") is not None
            if record.get("sent"):
                totals["tokens_in"] += int(record.get("tokens_in") or 0)
                totals["tokens_out"] += int(record.get("tokens_out") or 0)
                totals["cost_usd"] += float(record.get("cost_usd") or 0.0)


def read_call_log(path: Path) -> Iterator[LogRecord]:
    """The records of a call log; a torn last line (a crash mid-write) is skipped."""
    if not Path(path).exists():
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record: LogRecord = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "id" in record and "kind" in record:
                yield record


def _ends_torn(path: Path) -> bool:
    """The file exists, is not empty and does not end with a newline."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


class Ledger:
    """Cache, budget, retries and call log of one run; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        config: ExperimenterConfig,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.directory = Path(directory)
        self.config = config
        self.log_path = self.directory / CALL_LOG
        self.cache_dir = self.directory / CACHE_DIR
        self._sleep = sleep
        self._jitter = random.Random(seed)
        self._secrets: set[str] = set()
        self._prices = {model: (p_in, p_out) for model, p_in, p_out in config.prices}
        self._usage = _Usage()
        self._next_call = 0
        self._next_decision = 0
        # a process killed mid-line leaves a torn last line: the next record starts a new one
        self._torn = _ends_torn(self.log_path)
        for record in read_call_log(self.log_path):
            self._usage.add(record.get("role", ""), record)
            self._next_call += 1
            decision = str(record.get("decision", "d-1"))[1:]
            if decision.lstrip("-").isdigit():
                self._next_decision = max(self._next_decision, int(decision) + 1)

    def __repr__(self) -> str:
        return f"Ledger({str(self.directory)!r}, spent=${self.spent_usd:.4f})"

    # -- accounting ----------------------------------------------------------------------------

    def price(self, model: str) -> tuple[float, float]:
        """(USD per million input tokens, per million output tokens); the longest configured
        prefix of `model` counts (servers answer with versioned ids); unknown models are free."""
        matches = [m for m in self._prices if model == m or model.startswith(m + "-")]
        return self._prices[max(matches, key=len)] if matches else (0.0, 0.0)

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float:
        p_in, p_out = self.price(model)
        return (tokens_in * p_in + tokens_out * p_out) / 1e6

    def worst_case_cost(self, vlm: VLM, request: VLMRequest) -> float:
        """The most a request can cost: its prompt and images in, `max_output_tokens` out."""
        tokens_in = math.ceil(len(request.prompt) / CHARS_PER_TOKEN)
        tokens_in += TOKENS_PER_IMAGE * len(request.images)
        return self.cost(vlm.model, tokens_in, request.max_output_tokens)

    @property
    def spent_usd(self) -> float:
        return self._usage.total["cost_usd"]

    def usage(self) -> Usage:
        """Calls, cache hits, tokens, cost, budget, errors and fallbacks, in total and by role."""
        by_role = {role: _rounded(t) for role, t in sorted(self._usage.by_role.items())}
        return {
            **_rounded(self._usage.total),
            "budget_usd": self.config.budget_usd,
            "by_role": by_role,
        }

    def new_decision(self) -> str:
        """An id grouping the calls (ask, repair, fallback) of one decision."""
        self._next_decision += 1
        return f"d{self._next_decision - 1:06d}"

    # -- calls ---------------------------------------------------------------------------------

    def cache_key(self, vlm: VLM, request: VLMRequest) -> str:
        content = {
            "backend": vlm.name,
            "model": vlm.model,
            "prompt": request.prompt,
            "images": request.image_hashes,
            "schema": request.schema.__name__,
            "schema_json": schema_json(request.schema),
            "temperature": request.temperature,
            "max_output_tokens": request.max_output_tokens,
        }
        return sha256(json.dumps(content, sort_keys=True))

    def call(
        self,
        vlm: VLM,
        request: VLMRequest,
        validate: Callable[[str], Reply],
        *,
        decision: str = "",
        attempt: str = "ask",
    ) -> CallResult:
        """Answer `request` from the cache or `vlm`, validate it, log it; VLM faults come back in
        `CallResult.error`, except VLMAuthError and ReplayMissError, which are logged and raised."""
        self._secrets.update(s for s in vlm.secrets() if len(s) >= MIN_SECRET)
        call_id = f"c{self._next_call:06d}"
        key = self.cache_key(vlm, request)
        use_cache = self.config.cache and vlm.cacheable
        record: CallRecord = {
            "id": call_id,
            "kind": "call",
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "decision": decision,
            "attempt": attempt,
            "role": request.role,
            "backend": vlm.name,
            "model": vlm.model,
            "temperature": request.temperature,
            "schema": request.schema.__name__,
            "prompt": request.prompt,
            "images": request.image_hashes,
            "request_hash": request_hash(request),
            "cache_key": key,
            "cache_hit": False,
            "sent": False,
            "response": None,
            "parsed": None,
            "response_model": None,
            "tokens_in": 0,
            "tokens_out": 0,
            "cost_usd": 0.0,
            "latency_s": 0.0,
            "attempts": 0,
            "retries": 0,
            "retry_errors": [],
            "error": None,
            "fallback": False,
        }
        result = CallResult(call_id)
        cached = self._cache_get(key) if use_cache else None
        try:
            if cached is not None:
                result.response, result.cache_hit = cached, True
                record["cache_hit"] = True
            else:
                self._check_budget(vlm, request)
                record["sent"] = True
                sent = self._send(vlm, request, record)
                # a reply that repeats a key must not carry it into decisions, logs or the cache
                result.response = replace(sent, text=self._redact(sent.text))
                record["cost_usd"] = self.cost(
                    vlm.model, result.response.tokens_in, result.response.tokens_out
                )
                if use_cache:
                    self._cache_put(key, result.response)
            response = result.response
            record |= {"response": response.text, "response_model": response.model}
            record |= {"tokens_in": response.tokens_in, "tokens_out": response.tokens_out}
            record["latency_s"] = round(response.latency_s, 4)
            result.parsed = validate(response.text)
            record["parsed"] = result.parsed.model_dump(mode="json")
        except (VLMAuthError, ReplayMissError) as error:
            record["error"] = self._error_json(error)
            self._write(record)
            raise
        except VLMError as error:
            result.error = error
            record["error"] = self._error_json(error)
        self._write(record)
        return result

    def record_fallback(
        self, role: str, decision: str, reason: VLMError | None, calls: list[str], reply: Reply
    ) -> str:
        """Log that `decision` fell back to the scripted `reply`; returns the record's id."""
        call_id = f"c{self._next_call:06d}"
        self._write(
            {
                "id": call_id,
                "kind": "fallback",
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "decision": decision,
                "role": role,
                "backend": "scripted",
                "fallback": True,
                "for_calls": calls,
                "reason": None if reason is None else self._error_json(reason),
                "parsed": reply.model_dump(mode="json"),
            }
        )
        return call_id

    # -- internals -----------------------------------------------------------------------------

    def _check_budget(self, vlm: VLM, request: VLMRequest) -> None:
        worst = self.worst_case_cost(vlm, request)
        if worst > 0 and self.spent_usd + worst > self.config.budget_usd:
            raise BudgetExceededError(
                f"budget cap: ${self.spent_usd:.4f} spent of ${self.config.budget_usd:.2f}, and "
                f"this {request.role} call to {vlm.model} may cost up to ${worst:.4f}; raise "
                "experimenter.budget_usd to continue with this backend"
            )

    def _send(self, vlm: VLM, request: VLMRequest, record: CallRecord) -> VLMResponse:
        """Send with bounded exponential backoff on transient faults."""
        cfg = self.config
        for attempt in range(cfg.max_retries + 1):
            record["attempts"] = attempt + 1
            record["retries"] = attempt
            start = time.perf_counter()
            try:
                response = vlm.generate(request)
            except TransientVLMError as error:
                fault = RetryFault(attempt=attempt, code=error.code, error=str(error))
                record["retry_errors"].append(fault)
                if attempt == cfg.max_retries:
                    raise VLMTransportError(
                        f"{attempt + 1} attempt(s) failed with transient faults; last: {error}"
                    ) from error
                delay = min(cfg.backoff_max_s, cfg.backoff_s * 2**attempt)
                self._sleep(min(cfg.backoff_max_s, delay * (0.75 + 0.5 * self._jitter.random())))
                continue
            return replace(response, latency_s=time.perf_counter() - start)
        raise AssertionError("unreachable: the loop returns or raises")

    @staticmethod
    def _error_json(error: VLMError) -> ErrorRecord:
        out = ErrorRecord(type=type(error).__name__, message=str(error))
        if isinstance(error, VLMResponseError):
            out["kind"] = error.kind
        if isinstance(error, VLMApiError | VLMAuthError) and error.code is not None:
            out["code"] = error.code
        return out

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
            text = text.replace(json.dumps(secret)[1:-1], REDACTED)
        return text

    def _write(self, record: LogRecord) -> None:
        self._usage.add(record["role"], record)
        self._next_call += 1
        line = self._redact(json.dumps(record, ensure_ascii=False, default=str))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(("\n" if self._torn else "") + line + "\n")
            self._torn = False
            handle.flush()
            os.fsync(handle.fileno())

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> VLMResponse | None:
        path = self._cache_path(key)
        if not path.exists():
            return None
        try:
            text = path.read_text(encoding="utf-8")
            return VLMResponse(**from_json(_CachedAnswer, json.loads(text)))
        except (OSError, ValueError):  # a RecordError is a ValueError
            return None  # a damaged entry is only a cache miss

    def _cache_put(self, key: str, response: VLMResponse) -> None:
        data = _CachedAnswer(
            text=response.text,
            tokens_in=response.tokens_in,
            tokens_out=response.tokens_out,
            model=response.model,
        )
        atomic_write_text(self._cache_path(key), self._redact(json.dumps(data)))
