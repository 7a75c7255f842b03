"""A fake VLM server on 127.0.0.1 that speaks Gemini's generateContent and OpenAI's chat
completions, counts requests, and injects scripted faults per request.

    >>> with FakeVLMServer() as server:
    ...     server.push("429", "ok")       # the next request gets a 429, the one after a reply
    ...     server.gemini_url, server.openai_url    # base URLs for the two SDKs
    ...     server.count                            # requests received so far

Faults (one per request, in the order pushed; "ok" when the queue is empty):
"ok", "429", "500", "401" (its message repeats the key the request carried), "timeout" (sleeps
`sleep_s` before answering), "malformed" (reply text that is not JSON), "empty" (an empty reply),
"safety" (Gemini finishReason SAFETY / OpenAI refusal), "content_filter" (OpenAI finish_reason
content_filter), "echo_headers" (400 whose body repeats the request's headers, key included), or
a `Text` holding the exact reply text.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Text:
    """A reply whose text is exactly this (e.g. JSON naming a purple block)."""

    text: str


Fault = str | Text

TASK = "stack the red block on the blue block"
STEPS = [
    "grasp the red block",
    "lift the red block",
    "hold the red block above the blue block",
    "open the gripper",
]


def default_reply(prompt: str) -> str:
    """A well-formed answer for whichever role the prompt is for."""
    if "Propose ONE task" in prompt:
        return json.dumps({"reasoning": "stacking is the next step", "task": TASK})
    if "Split the task" in prompt:
        return json.dumps({"reasoning": "grasp, lift, hold above, release", "steps": STEPS})
    if "Answer with exactly one of" in prompt:
        options = re.findall(r'"(\w+)"', prompt.split("Answer with exactly one of")[1])
        return json.dumps({"reasoning": "looks done", "answer": options[0]})
    if "learning curve" in prompt or "success rate of the skill" in prompt:
        flags = {"learned": True, "converged": True, "add_to_library": True}
        return json.dumps({"reasoning": "flat and high", **flags, "keep_training": False})
    return json.dumps({"reasoning": "?", "task": TASK})


class FakeVLMServer:
    """See the module docstring."""

    def __init__(self, reply: Callable[[str], str] = default_reply, sleep_s: float = 1.0) -> None:
        self.reply = reply
        self.sleep_s = sleep_s
        self.requests: list[dict[str, Any]] = []
        self.faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                api = "openai" if self.path.endswith("/chat/completions") else "gemini"
                with server._lock:
                    fault = server.faults.popleft() if server.faults else "ok"
                    server.requests.append(
                        {
                            "api": api,
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "fault": fault if isinstance(fault, str) else "text",
                        }
                    )
                status, payload = server._answer(api, body, fault, dict(self.headers))
                if fault == "timeout":
                    time.sleep(server.sleep_s)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away, as the fault intends

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- control -------------------------------------------------------------------------------

    def start(self) -> FakeVLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeVLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push(self, *faults: Fault) -> None:
        """Queue faults for the next requests, one each."""
        with self._lock:
            self.faults.extend(faults)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    @property
    def gemini_url(self) -> str:
        return self.url

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    # -- answers -------------------------------------------------------------------------------

    @staticmethod
    def prompt_of(api: str, body: dict[str, Any]) -> tuple[str, int]:
        """(the request's text, its number of images)."""
        if api == "gemini":
            parts = [p for c in body.get("contents", []) for p in c.get("parts", [])]
            texts = [p["text"] for p in parts if "text" in p]
            return "\n".join(texts), sum("inlineData" in p or "inline_data" in p for p in parts)
        items = [i for m in body.get("messages", []) for i in m.get("content", [])]
        texts = [i["text"] for i in items if i.get("type") == "text"]
        return "\n".join(texts), sum(i.get("type") == "image_url" for i in items)

    def _answer(
        self, api: str, body: dict[str, Any], fault: Fault, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        prompt, images = self.prompt_of(api, body)
        schema = body.get("generationConfig", {}).get("responseSchema", {})
        if api == "gemini" and "additional_properties" in json.dumps(schema):
            # as the real API does: its Schema type has no such field
            return 400, _error(api, 400, 'Unknown name "additional_properties": Cannot find field.')
        if fault == "401":  # as a careless server might: the refused key in the message
            lower = {k.lower(): v for k, v in headers.items()}
            key = lower.get("x-goog-api-key") or lower.get("authorization", "")
            return 401, _error(api, 401, f"API key not valid: {key.removeprefix('Bearer ')}")
        if fault in ("429", "500"):
            return int(fault), _error(api, int(fault))
        if fault == "echo_headers":
            return 400, _error(api, 400, f"bad request; you sent headers {headers}")
        if isinstance(fault, Text):
            text = fault.text
        elif fault == "malformed":
            text = '{"reasoning": "I think the answer is", "task": '
        elif fault == "empty":
            text = ""
        else:
            text = self.reply(prompt)
        tokens_in = len(prompt) // 4 + 258 * images
        tokens_out = max(len(text) // 4, 1)
        model = body.get("model", "fake-model")
        if api == "gemini":
            return 200, _gemini_reply(text, fault, tokens_in, tokens_out)
        return 200, _openai_reply(text, fault, tokens_in, tokens_out, model)


def _error(api: str, code: int, message: str = "") -> dict[str, Any]:
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED"}
    message = message or {429: "Resource has been exhausted"}.get(code, "Internal error")
    if api == "gemini":
        return {"error": {"code": code, "message": message, "status": status.get(code, "INTERNAL")}}
    return {"error": {"message": message, "type": "fake_error", "code": None}}


def _gemini_reply(text: str, fault: Fault, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    usage = {
        "promptTokenCount": tokens_in,
        "candidatesTokenCount": tokens_out,
        "totalTokenCount": tokens_in + tokens_out,
    }
    if fault == "safety":
        candidate = {
            "finishReason": "SAFETY",
            "index": 0,
            "safetyRatings": [
                {
                    "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                    "probability": "HIGH",
                    "blocked": True,
                }
            ],
        }
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "fake-gemini"}
    candidate = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "finishReason": "STOP",
        "index": 0,
    }
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "fake-gemini"}


def _openai_reply(
    text: str, fault: Fault, tokens_in: int, tokens_out: int, model: str
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    finish = "stop"
    if fault == "safety":
        message = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    if fault == "content_filter":
        message, finish = {"role": "assistant", "content": None, "refusal": None}, "content_filter"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    }
