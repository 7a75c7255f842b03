"""The notebook parameters the package understands: one declaration each, the rest derived.

    >>> KNOWN_PARAMETERS["rounds"].field, KNOWN_PARAMETERS["rounds"].type
    ('loop.rounds', 'int')
    >>> CONFIG_PARAMETERS      # what notebook_config takes, in the order it applies them
    ('preset', 'rounds', 'seed', 'curriculum', 'experimenter', 'overrides')
    >>> check_values({"curricula": ["random", "lucky"]})   # ParameterError: unknown curricula ...

A notebook declares its parameters in its cell tagged `parameters`; one that has a name below
must have the type given here, and means the same in every notebook. A parameter that shapes
the config either sets one `field` or has its own `assign` (a preset's list, a backend chosen
from the environment, the overrides themselves); `notebook_config` takes exactly those. The
others have a `check` that `gameon batch` runs before anything does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gameon_nb.api_keys import choose_backend, refuse_secrets
from gameon_nb.notebook_errors import NotebookError, ParameterError
from gameon_nb.parameters_cell import Parameter

__all__ = [
    "CONFIG_PARAMETERS",
    "KNOWN_PARAMETERS",
    "KnownParameter",
    "check_declarations",
    "check_values",
]


@dataclass(frozen=True)
class KnownParameter:
    """A notebook parameter with a meaning of its own: its name, type and what it does."""

    name: str
    type: str
    """The annotation a notebook declares it with."""
    meaning: str
    field: str = ""
    """The config field it sets (`section.field`), for one that is a single field."""
    assign: Callable[[Any], list[str]] | None = None
    """Its config assignments, for one that shapes the config otherwise."""
    check: Callable[[Any], None] | None = None
    """A check of its value, for one that does not shape the config."""

    @property
    def shapes_config(self) -> bool:
        return bool(self.field) or self.assign is not None

    def assignments(self, value: Any) -> list[str]:
        """The `section.field=value` strings of `value`; none for a parameter off the config."""
        if self.assign is not None:
            return self.assign(value)
        return [f"{self.field}={value}"] if self.field else []


def _preset(name: Any) -> list[str]:
    from gameon_nb.loop.presets import PRESETS

    if name and name not in PRESETS:
        raise ParameterError(f"unknown preset {name!r}; known: {', '.join(PRESETS)} (or '')")
    return list(PRESETS[name]) if name else []


def _experimenter(name: Any) -> list[str]:
    return [f"experimenter.backend={choose_backend(str(name))}"]


def _overrides(items: Any) -> list[str]:
    if isinstance(items, str):
        raise ParameterError(f"overrides is a list of section.field=value, got {items!r}")
    for item in items:
        if not isinstance(item, str) or "=" not in item:
            raise ParameterError(f"an override is 'section.field=value', got {item!r}")
        refuse_secrets(item.partition("=")[0], item)
    return list(items)


def _curricula(names: Any) -> None:
    from gameon_nb.loop.curricula import CURRICULA

    unknown = [c for c in names if c not in CURRICULA]
    if unknown:
        raise ParameterError(f"unknown curricula {unknown}; known: {', '.join(CURRICULA)}")


def _backend(name: Any) -> None:
    choose_backend(str(name))


_DECLARED = (
    # the config, in the order notebook_config applies it (last wins)
    KnownParameter("preset", "str", "named overrides applied first ('' for none)", assign=_preset),
    KnownParameter("rounds", "int", "rounds of the loop", field="loop.rounds"),
    KnownParameter("seed", "int", "the run's seed", field="seed"),
    KnownParameter("curriculum", "str", "what the loop practises", field="loop.curriculum"),
    KnownParameter(
        "experimenter", "str", "experimenter backend, 'auto' by key", assign=_experimenter
    ),
    KnownParameter(
        "overrides", "list[str]", "section.field=value, applied last", assign=_overrides
    ),
    # off the config
    KnownParameter("run_dir", "str", "where the notebook writes; `gameon batch --run-dir` sets it"),
    KnownParameter("curricula", "list[str]", "curricula to compare", check=_curricula),
    KnownParameter("backend", "str", "judge and analyst backend, 'auto' by key", check=_backend),
)

KNOWN_PARAMETERS: Mapping[str, KnownParameter] = {p.name: p for p in _DECLARED}
"""Every known parameter by name, in declaration order."""

CONFIG_PARAMETERS = tuple(p.name for p in _DECLARED if p.shapes_config)
"""The parameters that shape a run's config; `notebook_config` takes them by these names."""


def check_declarations(declared: Mapping[str, Parameter], where: str) -> None:
    """A NotebookError when a notebook declares a known parameter with another type."""
    for name, parameter in declared.items():
        known = KNOWN_PARAMETERS.get(name)
        if known is not None and parameter.type.replace(" ", "") != known.type:
            raise NotebookError(
                f"{where} declares {name}: {parameter.type}; "
                f"{name} is {known.type} ({known.meaning})"
            )


def check_values(values: Mapping[str, Any]) -> None:
    """Run the check of every known parameter in `values` that has one."""
    for name, value in values.items():
        known = KNOWN_PARAMETERS.get(name)
        if known is not None and known.check is not None:
            known.check(value)
