"""The `openai` backend: any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama, ...).

    >>> vlm = OpenAIVLM(config, "gpt-4o-mini")   # key from $OPENAI_API_KEY, URL from the config
    >>> vlm.generate(VLMRequest("judge", prompt, (png,), JudgeReply)).text

Images go as PNG data URLs; the reply is JSON against the request's schema (response_format
json_schema, strict). The SDK's own retries are off (max_retries=0) so the ledger counts every
attempt. A local server needs no key: with a base URL and no $OPENAI_API_KEY a placeholder is sent.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

from gameon_nb.config import ExperimenterConfig
from gameon_nb.experimenter.backends._http import RETRY_STATUS
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
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionContentPartParam
    from openai.types.shared_params import ResponseFormatJSONSchema

__all__ = ["OpenAIVLM"]

NO_KEY = "no-key-needed"
"""Sent to a local server when no key is set (the SDK insists on one)."""


class OpenAIVLM:
    """A model behind an OpenAI-compatible server; see the module docstring."""

    name = "openai"
    cacheable = True

    def __init__(self, config: ExperimenterConfig, model: str) -> None:
        try:
            import openai
        except ImportError as error:
            raise MissingDependencyError(
                "the openai backend needs the openai SDK: pip install 'gameon_nb[openai]'"
            ) from error
        self.model = model
        self.base_url = config.openai_base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = os.environ.get("OPENAI_API_KEY") or (NO_KEY if self.base_url else "")
        if not key:
            raise BackendConfigError(
                "the openai backend needs OPENAI_API_KEY, or a local server's URL in "
                "experimenter.openai_base_url (or OPENAI_BASE_URL)"
            )
        self._key = key
        self._client: openai.OpenAI = openai.OpenAI(
            api_key=key, base_url=self.base_url, max_retries=0, timeout=config.timeout_s
        )

    def __repr__(self) -> str:
        return f"OpenAIVLM(model={self.model!r}, base_url={self.base_url!r})"

    def secrets(self) -> tuple[str, ...]:
        return () if self._key == NO_KEY else (self._key,)

    def _clean(self, text: str) -> str:
        return text.replace(self._key, "[redacted]") if self._key != NO_KEY else text

    def generate(self, request: VLMRequest) -> VLMResponse:
        import openai

        content: list[ChatCompletionContentPartParam] = [
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()},
            }
            for png in request.images
        ]
        content.append({"type": "text", "text": request.prompt})
        response_format: ResponseFormatJSONSchema = {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema.__name__,
                "schema": request.schema.model_json_schema(),
                "strict": True,
            },
        }
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": content}],
                response_format=response_format,
                temperature=request.temperature,
                max_completion_tokens=request.max_output_tokens,
            )
        except (openai.APITimeoutError, openai.APIConnectionError) as error:
            raise TransientVLMError(self._clean(f"{type(error).__name__}: {error}")) from None
        except openai.APIStatusError as error:
            code = error.status_code
            message = self._clean(f"OpenAI-compatible API error {code}: {error.message}")
            if code in RETRY_STATUS or code >= 500:
                raise TransientVLMError(message, code) from None
            if code in (401, 403, 404):
                raise VLMAuthError(
                    f"{message} (check the key and experimenter.openai_model)", code
                ) from None
            raise VLMApiError(message, code) from None
        except openai.APIResponseValidationError as error:
            raise VLMApiError(self._clean(f"unreadable server response: {error}")) from None
        return self._read(completion)

    def _read(self, completion: ChatCompletion) -> VLMResponse:
        if not completion.choices:
            raise VLMResponseError("the reply has no choices", "empty")
        choice = completion.choices[0]
        message = choice.message
        if getattr(message, "refusal", None):
            raise VLMResponseError(f"the model refused: {message.refusal}", "blocked")
        if choice.finish_reason == "content_filter":
            raise VLMResponseError("the reply was withheld by the content filter", "blocked")
        text = message.content or ""
        if not text.strip():
            raise VLMResponseError(f"the reply is empty (finish {choice.finish_reason})", "empty")
        usage = completion.usage
        return VLMResponse(
            text=text,
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
            model=completion.model or self.model,
        )
