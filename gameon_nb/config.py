"""Frozen configuration dataclasses for every component, nested in one `RunConfig`.

    >>> cfg = RunConfig()
    >>> cfg = override(cfg, ["sim.pixels=true", "sim.image_size=[96, 128]"])
    >>> cfg.sim.image_size
    (96, 128)

The resolved config is what a run directory saves and what command-line `--set` options and
papermill parameters are validated against.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "BootstrapConfig",
    "ConfigError",
    "DataConfig",
    "RunConfig",
    "SimConfig",
    "from_dict",
    "override",
    "to_dict",
]


class ConfigError(ValueError):
    """A config field name or value that does not fit the schema."""


@dataclass(frozen=True)
class SimConfig:
    """The table-top stacking domain: control, actions, observations and rendering."""

    control_hz: int = 20
    """Control steps per second; the physics runs at 2 ms, so 25 substeps at 20 Hz."""
    max_linear_speed: float = 0.25
    """Gripper speed in m/s commanded by an action of 1 on vx, vy or vz."""
    max_yaw_speed: float = 1.5
    """Gripper yaw rate in rad/s commanded by an action of 1 on vyaw."""
    episode_steps: int = 400
    """Control steps before an episode is truncated."""
    pixels: bool = False
    """Add one uint8 image per camera in `cameras` to each observation."""
    cameras: tuple[str, ...] = ("front_left", "front_right")
    """Cameras rendered into observations when `pixels` is on."""
    image_size: tuple[int, int] = (64, 64)
    """(height, width) of observation images."""
    shadows: bool = False
    """Shadows in observation images (software rendering is about 5x slower with them)."""
    reflections: bool = False
    """Table reflections in observation images."""
    view_camera: str = "experimenter"
    """Camera of `env.render()`: the wide view shown to people and to the VLM."""
    view_size: tuple[int, int] = (180, 240)
    """(height, width) of `env.render()` images."""
    view_shadows: bool = False
    """Shadows and reflections in `env.render()` images (prettier, several times slower)."""
    spawn_half_extent: float = 0.12
    """Blocks spawn with x and y in [-e, e] metres."""
    min_block_distance: float = 0.08
    """Minimum distance between block centres at reset, in metres."""


@dataclass(frozen=True)
class DataConfig:
    """What each stored episode keeps besides actions, proprio and scene states."""

    frame_every: int = 5
    """Keep frames every this many control steps, and at every skill's start and end."""
    policy_frames: bool = True
    """Keep the policy cameras' frames (SimConfig.cameras at image_size), for pixel learning."""
    view_frames: bool = True
    """Keep the experimenter camera's frames (at view_size), for viewing and judging."""


@dataclass(frozen=True)
class BootstrapConfig:
    """The starting data set: scripted chains of base skills, with noise and failures."""

    episodes: int = 200
    """Episodes to write."""
    noise: float = 0.1
    """Standard deviation of Gaussian noise added to every scripted action."""
    failure_rate: float = 0.2
    """Chance that a skill execution is sabotaged (random actions, or giving up half-way)."""
    max_chain: int = 3
    """Longest chain of base skills in one episode (lengths are uniform from 1)."""
    workers: int = 2
    """Processes that simulate; episodes are written in seed order whatever this is."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, resolved and saved in its run directory."""

    seed: int = 0
    """Seed of every random choice in the run."""
    sim: SimConfig = field(default_factory=SimConfig)
    """The simulated domain."""
    data: DataConfig = field(default_factory=DataConfig)
    """What episodes keep."""
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)
    """The starting data set."""


C = TypeVar("C")


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain JSON-ready data (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))  # type: ignore[no-any-return]


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build `cls` from plain data, checking every name and type; unknown names are errors."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown} in {cls.__name__}; known: {sorted(names)}")
    return cls(**{k: _coerce(hints[k], v, f"{cls.__name__}.{k}") for k, v in data.items()})


def override(config: C, assignments: list[str]) -> C:
    """Return `config` with each `section.field=value` applied (value parsed as JSON, else text)."""
    data = to_dict(config)
    for item in assignments:
        path, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"expected section.field=value, got {item!r}")
        node = data
        *parents, leaf = path.strip().split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"{path!r}: {part!r} is not a config section")
            node = node[part]
        if leaf not in node or isinstance(node[leaf], dict):
            raise ConfigError(f"{path!r} is not a config field; fields here: {sorted(node)}")
        try:
            node[leaf] = json.loads(text)
        except json.JSONDecodeError:
            node[leaf] = text
    return from_dict(type(config), data)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Check `value` against the type `hint`, converting lists to tuples and ints to floats."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a section (mapping), got {value!r}")
        return from_dict(hint, value)  # type: ignore[arg-type]
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, where) for v in value)
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} items, got {value!r}")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value, strict=True))
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            try:
                return _coerce(arg, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not fit {hint}")
    if hint is type(None):
        if value is not None:
            raise ConfigError(f"{where}: expected null, got {value!r}")
        return None
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (bool, int, float, str):
        if type(value) is not hint:
            raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported field type {hint}")
