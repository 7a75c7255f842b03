"""Pydantic schemas of the VLM's replies, one per role; the backends ask for JSON in these shapes.

    >>> ProposalReply.model_validate_json('{"reasoning": "...", "task": "lift the red block"}')
    >>> parse_reply(DecompositionReply, text)     # VLMResponseError(kind="invalid_json" | "schema")

Field order puts the reasoning first, so a model that writes in order thinks before it answers.
"""

from __future__ import annotations

import json
from typing import TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from gameon_nb.experimenter.errors import VLMResponseError

__all__ = [
    "DecompositionReply",
    "JudgeReply",
    "ProgressReply",
    "ProposalReply",
    "Reply",
    "parse_reply",
    "schema_json",
]


class Reply(BaseModel):
    """Base of the reply schemas: no extra fields, so OpenAI's strict mode accepts them."""

    model_config = ConfigDict(extra="forbid")

    reasoning: str = Field(description="One or two sentences on why.")


class ProposalReply(Reply):
    task: str = Field(description="The task for the next round, as one instruction.")


class DecompositionReply(Reply):
    steps: list[str] = Field(description="The task's steps in order, one skill each.")


class JudgeReply(Reply):
    answer: str = Field(description="Exactly one of the two options offered.")


class ProgressReply(Reply):
    learned: bool = Field(description="Success is reliably at or above the threshold.")
    converged: bool = Field(description="More of the same training will not change the rate.")
    add_to_library: bool = Field(description="Reliable enough to build other skills on.")
    keep_training: bool = Field(description="More practice is worth it.")


R = TypeVar("R", bound=Reply)


def schema_json(schema: type[Reply]) -> str:
    """The JSON schema of a reply type, as canonical text (part of every cache key)."""
    return json.dumps(schema.model_json_schema(), sort_keys=True, separators=(",", ":"))


def parse_reply(schema: type[R], text: str) -> R:
    """Parse a reply's text; a fenced ```json block is accepted (some servers add fences)."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        raise VLMResponseError(f"the reply is not valid JSON ({error})", "invalid_json") from None
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in error.errors()
        )
        raise VLMResponseError(
            f"the reply does not fit the {schema.__name__} schema ({problems})", "schema"
        ) from None
