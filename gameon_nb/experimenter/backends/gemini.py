"""The `gemini` backend: Google's Gemini API through the google-genai SDK.

    >>> vlm = GeminiVLM(config, "gemini-2.5-flash")   # key from $GEMINI_API_KEY or $GOOGLE_API_KEY
    >>> vlm.generate(VLMRequest("judge", prompt, (png,), JudgeReply)).text

Images go as inline PNG parts before the prompt; the reply is JSON against the request's pydantic
schema, sent as a JSON schema. The SDK's own retries are off (HttpRetryOptions(attempts=1)) so the
ledger counts every attempt. The base URL comes from the config, else $GEMINI_BASE_URL, else the
SDK's default.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gameon_nb.config import ExperimenterConfig
from gameon_nb.experimenter.backends._http import RETRY_STATUS, transient_transport_errors
from gameon_nb.experimenter.errors import (
    BackendConfigError,
    MissingDependencyError,
    TransientVLMError,
    VLMApiError,
    VLMAuthError,
    VLMResponseError,
)
from gameon_nb.experimenter.protocol import VLMRequest, VLMResponse

if TYPE_CHECKING:
    from google import genai
    from google.genai.types import GenerateContentResponse

__all__ = ["GeminiVLM"]

BLOCKED_FINISH = frozenset(
    {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}
)
"""Finish reasons that mean the reply was withheld."""
AUTH_STATUS = frozenset({401, 403, 404})


class GeminiVLM:
    """A Gemini model behind the google-genai SDK; see the module docstring."""

    name = "gemini"
    cacheable = True

    def __init__(self, config: ExperimenterConfig, model: str) -> None:
        try:
            from google import genai
            from google.genai import types
        except ImportError as error:
            raise MissingDependencyError(
                "the gemini backend needs the google-genai SDK: pip install 'gameon_nb[gemini]'"
            ) from error
        key = os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
        if not key:
            raise BackendConfigError(
                "the gemini backend needs an API key in GEMINI_API_KEY (or GOOGLE_API_KEY); "
                "or run offline with experimenter.backend=scripted"
            )
        self.model = model
        self.base_url = config.gemini_base_url or os.environ.get("GEMINI_BASE_URL") or None
        self._key = key
        self._types = types
        self._transient = transient_transport_errors()
        options = types.HttpOptions(
            base_url=self.base_url,
            timeout=max(1, round(config.timeout_s * 1000)),  # milliseconds
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self._client: genai.Client = genai.Client(api_key=key, vertexai=False, http_options=options)

    def __repr__(self) -> str:
        return f"GeminiVLM(model={self.model!r}, base_url={self.base_url!r})"

    def secrets(self) -> tuple[str, ...]:
        return (self._key,)

    def _clean(self, text: str) -> str:
        """`text` without the key (a server or proxy may echo request headers in an error)."""
        return text.replace(self._key, "[redacted]")

    def generate(self, request: VLMRequest) -> VLMResponse:
        from google.genai import errors

        types = self._types
        parts = [types.Part.from_bytes(data=png, mime_type="image/png") for png in request.images]
        parts.append(types.Part.from_text(text=request.prompt))
        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            # as JSON schema: the API's own Schema type rejects additionalProperties, which the
            # reply models carry for OpenAI's strict mode ("Unknown name additional_properties")
            response_json_schema=request.schema.model_json_schema(),
            temperature=request.temperature,
            max_output_tokens=request.max_output_tokens,
        )
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=[types.Content(role="user", parts=parts)], config=config
            )
        except errors.APIError as error:
            code = int(error.code) if error.code else None
            message = self._clean(f"Gemini API error {code} {error.status}: {error.message}")
            if code in RETRY_STATUS or (code is not None and code >= 500):
                raise TransientVLMError(message, code) from None
            if code in AUTH_STATUS:
                raise VLMAuthError(
                    f"{message} (check the key and experimenter.gemini_model)", code
                ) from None
            raise VLMApiError(message, code) from None
        except self._transient as error:
            raise TransientVLMError(self._clean(f"{type(error).__name__}: {error}")) from None
        return self._read(response)

    def _read(self, response: GenerateContentResponse) -> VLMResponse:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            raise VLMResponseError(f"the prompt was blocked ({feedback.block_reason})", "blocked")
        candidates = response.candidates or []
        if not candidates:
            raise VLMResponseError("the reply has no candidates", "empty")
        candidate = candidates[0]
        finish = getattr(candidate.finish_reason, "value", candidate.finish_reason)
        if finish in BLOCKED_FINISH:
            raise VLMResponseError(f"the reply was withheld (finish reason {finish})", "blocked")
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        text = "".join(p.text for p in parts if p.text and not p.thought)
        if not text.strip():
            raise VLMResponseError(f"the reply is empty (finish reason {finish})", "empty")
        usage = response.usage_metadata
        tokens_in = tokens_out = 0
        if usage is not None:
            tokens_in = usage.prompt_token_count or 0
            tokens_out = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        return VLMResponse(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            model=response.model_version or self.model,
        )
