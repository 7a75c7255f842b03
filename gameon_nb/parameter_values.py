"""Command-line values (`gameon batch -p name value`) parsed by a parameter's declared type.

    >>> parse_value(Parameter("rounds", "int", 2), "3")
    3
    >>> parse_value(Parameter("overrides", "list[str]", []), '["loop.rounds=1"]')
    ['loop.rounds=1']
    >>> parse_value(Parameter("rounds", "int", 2), "abc")   # ParameterError: rounds expects int ...

Scalars are str, bool (true/false, yes/no, 1/0), int and float; lists are JSON lists, of one of
those when the annotation says (`list[int]`); `Any` or `object` take JSON, else the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gameon_nb.notebook_errors import ParameterError
from gameon_nb.parameters_cell import Parameter

__all__ = ["parse_value"]

_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_LIST = re.compile(r"(?:list|List)(?:\[(\w+)\])?")


def _number(kind: str, value: Any, expects: str) -> Any:
    if isinstance(value, bool):
        raise ParameterError(expects)
    try:
        return int(str(value), 10) if kind == "int" else float(str(value))
    except ValueError:
        raise ParameterError(expects) from None


def _scalar(kind: str, value: Any, name: str, text: str) -> Any:
    """`value` (already JSON-decoded, or the raw text) as `kind`, or a clear error."""
    expects = f"{name} expects {kind}, got {text!r}"
    if kind == "str":
        return value if isinstance(value, str) else text
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in _BOOLS:
            return _BOOLS[str(value).lower()]
        raise ParameterError(f"{expects} (true or false)")
    if kind in ("int", "float"):
        return _number(kind, value, expects)
    raise ParameterError(f"{name} has type {kind!r}, which batch cannot parse; use a literal type")


def _list(inner: str | None, name: str, text: str) -> list[Any]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        items = None
    if not isinstance(items, list):
        raise ParameterError(
            f"{name} expects a JSON list{f' of {inner}' if inner else ''}, "
            f'e.g. \'["a", "b"]\', got {text!r}'
        )
    return items if inner is None else [_scalar(inner, v, name, text) for v in items]


def parse_value(parameter: Parameter, text: str) -> Any:
    """A command-line value as the parameter's declared type (see the module docstring)."""
    kind = parameter.type.replace(" ", "")
    match = _LIST.fullmatch(kind)
    if match:
        return _list(match[1], parameter.name, text)
    if kind in ("Any", "object", "NoneType"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return _scalar(kind, text, parameter.name, text)
