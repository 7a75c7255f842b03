"""The `VLM` protocol every backend implements, and the request and response it speaks.

    >>> request = VLMRequest("judge", prompt, images=(png,), schema=JudgeReply, temperature=0.0)
    >>> response = vlm.generate(request)        # raises TransientVLMError, VLMResponseError, ...
    >>> response.text, response.tokens_in, response.model

A backend sends one request and classifies what goes wrong; retries, the cache, the budget and the
call log live in the ledger around it, so every backend is counted the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from gameon_nb.experimenter.schemas import Reply

__all__ = ["ROLES", "VLM", "Role", "VLMRequest", "VLMResponse", "request_hash", "sha256"]

Role = Literal["proposer", "decomposer", "judge", "analyst"]
ROLES: tuple[Role, ...] = ("proposer", "decomposer", "judge", "analyst")


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@dataclass(frozen=True, eq=False)
class VLMRequest:
    """One question to a VLM: a rendered prompt, PNG images, a reply schema, a temperature."""

    role: Role
    prompt: str
    images: tuple[bytes, ...] = ()
    """PNG-encoded images, shown before the prompt in this order."""
    schema: type[Reply] = Reply
    temperature: float = 0.0
    max_output_tokens: int = 2048
    privileged: object = None
    """What only the scripted backend may read (scene state, ground truth); never sent, never
    hashed, never logged."""

    @property
    def image_hashes(self) -> list[str]:
        return [sha256(image) for image in self.images]

    def with_prompt(self, prompt: str) -> VLMRequest:
        return replace(self, prompt=prompt)


def request_hash(request: VLMRequest) -> str:
    """What a request asks, whoever answers it: role, prompt, images, schema. The replay backend
    finds recorded answers by it, so it leaves out the backend, the model and the temperature."""
    content = {
        "role": request.role,
        "prompt": request.prompt,
        "images": request.image_hashes,
        "schema": request.schema.__name__,
    }
    return sha256(json.dumps(content, sort_keys=True))


@dataclass(frozen=True)
class VLMResponse:
    """A backend's answer: the raw text, token usage, latency and the model that answered."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    model: str = ""


class VLM(Protocol):
    """A vision-language model behind one backend."""

    name: str
    """The backend's registry name ('gemini', 'openai', 'scripted', 'replay')."""
    model: str
    cacheable: bool
    """Whether answers may come from the run's cache (False where they depend on more than the
    request, as the scripted backend's do)."""

    def generate(self, request: VLMRequest) -> VLMResponse:
        """Answer one request; raise TransientVLMError for faults worth retrying."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere (API keys)."""
        ...
