"""Config: overrides are validated by name and type; plain data round-trips."""

from __future__ import annotations

import pytest

from gameon_nb.config import ConfigError, RunConfig, from_dict, override, to_dict


def test_override_parses_and_validates() -> None:
    cfg = override(RunConfig(), ["seed=3", "sim.pixels=true", "sim.image_size=[96, 128]"])
    assert cfg.seed == 3
    assert cfg.sim.pixels
    assert cfg.sim.image_size == (96, 128)
    assert override(RunConfig(), ["sim.max_linear_speed=1"]).sim.max_linear_speed == 1.0
    assert override(RunConfig(), ["sim.view_camera=top"]).sim.view_camera == "top"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("sim.no_such=1", "not a config field"),
        ("nosection.x=1", "not a config section"),
        ("seed=abc", "expected int"),
        ("sim.pixels=1", "expected bool"),
        ("sim.image_size=[1]", "expected 2 items"),
        ("sim", "section.field=value"),
        ("sim=1", "not a config field"),
    ],
)
def test_override_rejects_bad_input(item: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        override(RunConfig(), [item])


def test_round_trip_through_plain_data() -> None:
    cfg = override(RunConfig(), ['sim.cameras=["top"]'])
    assert from_dict(RunConfig, to_dict(cfg)) == cfg
    with pytest.raises(ConfigError, match="unknown field"):
        from_dict(RunConfig, {**to_dict(cfg), "extra": 1})
