"""The plain-JSON form of typed records (dataclasses): state files, event lines, reports.

    >>> data = to_json(record)                 # JSON values only: tuples become lists
    >>> record = from_json(RoundRecord, data)  # checked against the type hints

`from_json` builds nested dataclasses, typed dicts, lists, tuples, dicts, optional values and
literals from their type hints; a field missing from the data takes its default (records
written by an older version still load), an unknown field or a value of the wrong type is a
`RecordError` naming where it is.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypeVar

__all__ = ["Json", "JsonObject", "RecordError", "from_json", "to_json"]

T = TypeVar("T")
_HINTS: dict[Any, dict[str, object]] = {}

Json: TypeAlias = "bool | int | float | str | Sequence[Json] | Mapping[str, Json] | None"
"""A JSON value: what `json.dumps` writes. Reports and log lines of an open shape (a benchmark's
figures, a VLM call's record) are typed with it; data with a fixed shape gets a record."""
JsonObject: TypeAlias = Mapping[str, Json]
"""A JSON object (read-only view; build one as a `dict[str, Json]`)."""


class RecordError(ValueError):
    """Data that does not fit a record's type; the message says where."""


def to_json(value: Any) -> Any:
    """A record (or any nesting of records, lists, tuples and dicts) as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def _hints(cls: Any) -> dict[str, object]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def from_json(cls: type[T], data: Any, where: str = "") -> T:
    """`cls` (a dataclass) from its JSON form; see the module docstring."""
    return _build(cls, data, where or cls.__name__)  # type: ignore[no-any-return]


def _build(hint: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if typing.is_typeddict(hint):
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected a mapping, got {type(value).__name__}")
        hints = _hints(hint)
        unknown = sorted(set(value) - set(hints))
        if unknown:
            raise RecordError(f"{where}: unknown field(s) {unknown}; known: {sorted(hints)}")
        missing = sorted(set(hint.__required_keys__) - set(value))
        if missing:
            raise RecordError(f"{where}: missing field(s) {missing}")
        return {k: _build(hints[k], v, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected a mapping, got {type(value).__name__}")
        hints = _hints(hint)
        fields = {f.name: f for f in dataclasses.fields(hint) if f.init}
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise RecordError(f"{where}: unknown field(s) {unknown}; known: {sorted(fields)}")
        missing = [
            name for name, f in fields.items()
            if name not in value and f.default is f.default_factory is dataclasses.MISSING
        ]  # fmt: skip
        if missing:
            raise RecordError(f"{where}: missing field(s) {missing}")
        make: Any = hint
        return make(**{k: _build(hints[k], v, f"{where}.{k}") for k, v in value.items()})
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _build(arg, value, where)
            except RecordError as error:
                errors.append(str(error))
        raise RecordError(f"{where}: {value!r} fits none of {hint} ({'; '.join(errors)})")
    if origin is Literal:
        if value not in args:
            raise RecordError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise RecordError(f"{where}: expected a list, got {type(value).__name__}")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise RecordError(f"{where}: expected {len(args)} items, got {len(value)}")
            pairs = enumerate(zip(args, value, strict=True))
            return tuple(_build(a, v, f"{where}[{i}]") for i, (a, v) in pairs)
        items = [_build(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected a mapping, got {type(value).__name__}")
        return {k: _build(args[1], v, f"{where}[{k!r}]") for k, v in value.items()}
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (bool, int, float, str):
        if type(value) is not hint:
            raise RecordError(f"{where}: expected {hint.__name__}, got {value!r}")
        return value
    if hint is type(None) and value is None:
        return None
    raise RecordError(f"{where}: cannot read {value!r} as {hint}")
