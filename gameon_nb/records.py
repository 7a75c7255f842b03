"""The plain-JSON form of typed records (dataclasses): state files, event lines, reports.

    >>> data = to_json(record)                 # JSON values only: tuples become lists
    >>> record = from_json(RoundRecord, data)  # checked against the type hints

`from_json` builds nested dataclasses, typed dicts, lists, tuples, dicts, optional values and
literals from their type hints; a field missing from the data takes its default (records
written by an older version still load), an unknown field or a value of the wrong type is a
`RecordError` naming where it is. Its `Decoder` also reads configs (config.py), worded there.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass
from typing import Annotated, Any, Literal, NoReturn, NotRequired, Required, TypeAlias, TypeVar

__all__ = ["Decoder", "Json", "JsonObject", "RecordError", "from_json", "to_json", "type_hints"]

T = TypeVar("T")
_HINTS: dict[Any, dict[str, Any]] = {}

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


def type_hints(cls: Any) -> dict[str, Any]:
    """Field name -> type of a dataclass or typed dict, `Annotated` marks kept (cached)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, include_extras=True)
    return _HINTS[cls]


def from_json(cls: type[T], data: Any, where: str = "") -> T:
    """`cls` (a dataclass) from its JSON form; see the module docstring."""
    return _RECORDS.build(cls, data, where or cls.__name__)


@dataclass(frozen=True)
class Decoder:
    """Plain JSON into typed values by their type hints, for `from_json` and config's
    `from_dict`, each with its error class and wording: the templates below, which may also
    name {where}, {value} and {type} (the value's type name).

        >>> Decoder().decode(tuple[int, float], [1, 2], "pair")
        (1, 2.0)

    A literal takes no bool for 1; an `Annotated` value is also checked by each of its marks,
    `mark.check(value, where)`, which raises its own error."""

    error: type[ValueError] = RecordError
    mapping: str = "{where}: expected a mapping, got {type}"
    unknown: str = "{where}: unknown field(s) {unknown}; known: {known}"
    missing: str = "{where}: missing field(s) {missing}"
    sequence: str = "{where}: expected a list, got {type}"
    length: str = "{where}: expected {n} items, got {count}"
    option: str = "{where}: {value!r} is not one of {options}"
    no_fit: str = "{where}: {value!r} fits none of {hint} ({errors})"
    unsupported: str = "{where}: cannot read {value!r} as {hint}"
    item: str = "{where}[{key!r}]"
    """Where an item of a list, tuple or dict is: "{where}" names its container instead."""

    def build(self, cls: type[T], data: Any, where: str) -> T:
        """`cls` from `data`; `where` prefixes its field names in messages ("" for none)."""
        return typing.cast(T, self.decode(cls, data, where))

    def decode(self, hint: Any, value: Any, where: str) -> Any:
        """`value` checked against (and converted to) the type `hint`; `where` names it."""
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (Annotated, Required, NotRequired):
            base, *marks = args
            value = self.decode(base, value, where)
            for mark in marks:
                mark.check(value, where)
            return value
        if typing.is_typeddict(hint) or dataclasses.is_dataclass(hint):
            return self._fields(hint, value, where)
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            errors = []
            for arg in (a for a in args if a is not type(None)):
                try:
                    return self.decode(arg, value, where)
                except self.error as error:
                    errors.append(str(error))
            self._fail(self.no_fit, where, value, hint=hint, errors="; ".join(errors))
        if origin is Literal:
            if not any(value == option and type(value) is type(option) for option in args):
                self._fail(self.option, where, value, options=list(args))
            return value
        if origin in (list, tuple):
            if not isinstance(value, list | tuple):
                self._fail(self.sequence, where, value)
            if origin is list or (len(args) == 2 and args[1] is Ellipsis):
                items = [self.decode(args[0], v, self._at(where, i)) for i, v in enumerate(value)]
                return items if origin is list else tuple(items)
            if len(args) != len(value):
                self._fail(self.length, where, value, n=len(args), count=len(value))
            return tuple(self.decode(args[i], v, self._at(where, i)) for i, v in enumerate(value))
        if origin is dict:
            if not isinstance(value, Mapping):
                self._fail(self.mapping, where, value)
            return {k: self.decode(args[1], v, self._at(where, k)) for k, v in value.items()}
        if hint is Any:
            return value
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if hint in (bool, int, float, str, type(None)):
            if type(value) is not hint:
                want = "null" if hint is type(None) else hint.__name__
                self._fail("{where}: expected {want}, got {value!r}", where, value, want=want)
            return value
        self._fail(self.unsupported, where, value, hint=hint)

    def _fields(self, cls: Any, value: Any, where: str) -> Any:
        """A dataclass or typed dict from a mapping, field by field."""
        at, hints = where or cls.__name__, type_hints(cls)
        if not isinstance(value, Mapping):
            self._fail(self.mapping, at, value)
        if typing.is_typeddict(cls):  # NotRequired read off the hints: 3.11 loses it in strings
            names = list(hints)
            optional = {k for k, hint in hints.items() if typing.get_origin(hint) is NotRequired}
            required = sorted(cls.__required_keys__ - optional)
        else:
            fields = [f for f in dataclasses.fields(cls) if f.init]
            names = [f.name for f in fields]
            required = [f.name for f in fields if f.default is f.default_factory is MISSING]
        unknown = sorted(set(value) - set(names))
        if unknown:
            self._fail(self.unknown, at, unknown=unknown, known=sorted(names))
        missing = [name for name in required if name not in value]
        if missing:
            self._fail(self.missing, at, missing=missing)
        built = {
            k: self.decode(hints[k], v, f"{where}.{k}" if where else k) for k, v in value.items()
        }
        return built if typing.is_typeddict(cls) else cls(**built)

    def _at(self, where: str, key: object) -> str:
        return self.item.format(where=where, key=key)

    def _fail(self, message: str, where: str, value: Any = None, **names: Any) -> NoReturn:
        names |= {"where": where, "value": value, "type": type(value).__name__}
        raise self.error(message.format(**names))


_RECORDS = Decoder()
