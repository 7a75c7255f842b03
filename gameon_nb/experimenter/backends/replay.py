"""The `replay` backend: answers from a recorded call log, by the content hash of each request.

    >>> vlm = ReplayVLM(Path("runs/a/calls.jsonl"), fallback=None)
    >>> vlm.generate(request).text          # what was answered to this request when recorded

A request asked several times gets its recorded answers in order, then the last one again. What
went wrong when recording (a transport fault, a blocked reply, a budget refusal) happens again, so
a replayed run takes the same fallbacks and reaches the same decisions. A request never recorded
is a ReplayMissError, unless a fallback backend is named.
"""

from __future__ import annotations

from pathlib import Path

from gameon_nb.experimenter.errors import (
    BudgetExceededError,
    ReplayMissError,
    VLMApiError,
    VLMAuthError,
    VLMError,
    VLMResponseError,
    VLMTransportError,
)
from gameon_nb.experimenter.ledger import CallRecord, ErrorRecord, read_call_log
from gameon_nb.experimenter.protocol import VLM, VLMRequest, VLMResponse, request_hash

__all__ = ["ReplayVLM"]


class ReplayVLM:
    """Recorded answers by request hash; see the module docstring."""

    name = "replay"
    model = "replay"
    cacheable = False  # the log is its own cache

    def __init__(self, log: Path, fallback: VLM | None = None) -> None:
        self.log = Path(log)
        if not self.log.exists():
            raise ReplayMissError(f"no call log to replay at {self.log}")
        self.fallback = fallback
        self._answers: dict[str, list[CallRecord]] = {}
        for record in read_call_log(self.log):
            if record["kind"] == "call" and record.get("request_hash"):
                self._answers.setdefault(record["request_hash"], []).append(record)
        self._served: dict[str, int] = {}

    def __repr__(self) -> str:
        answers, fallback = len(self._answers), self.fallback
        return f"ReplayVLM({str(self.log)!r}, answers={answers}, fallback={fallback!r})"

    def __len__(self) -> int:
        return len(self._answers)

    def secrets(self) -> tuple[str, ...]:
        return self.fallback.secrets() if self.fallback is not None else ()

    def generate(self, request: VLMRequest) -> VLMResponse:
        key = request_hash(request)
        answers = self._answers.get(key)
        if not answers:
            if self.fallback is not None:
                return self.fallback.generate(request)
            raise ReplayMissError(
                f"{self.log} holds no answer to this {request.role} request (hash {key[:12]}); "
                "name a fallback backend in experimenter.replay_fallback to answer it live"
            )
        served = self._served.get(key, 0)
        self._served[key] = served + 1
        record = answers[min(served, len(answers) - 1)]
        if record.get("response") is not None:
            return VLMResponse(
                text=str(record["response"]),
                tokens_in=int(record.get("tokens_in") or 0),
                tokens_out=int(record.get("tokens_out") or 0),
                model=str(record.get("response_model") or record.get("model") or self.model),
            )
        raise _replayed_error(record.get("error"))


def _replayed_error(error: ErrorRecord | None) -> VLMError:
    """The recorded fault again, so the same handling follows."""
    if error is None:
        return VLMTransportError("replayed: no answer was recorded")
    message = f"replayed: {error.get('message', 'no answer was recorded')}"
    kind = error.get("type")
    if kind == "VLMResponseError":
        return VLMResponseError(message, error.get("kind", "empty"))
    if kind == "BudgetExceededError":
        return BudgetExceededError(message)
    if kind == "VLMApiError":
        return VLMApiError(message, error.get("code"))
    if kind == "VLMAuthError":
        return VLMAuthError(message, error.get("code"))
    return VLMTransportError(message)
