"""Config: overrides are validated by name and type; plain data round-trips."""

from __future__ import annotations

from pathlib import Path

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


def _checked_fields(cls: type = RunConfig, path: str = "") -> list[tuple[str, object]]:
    """(dotted path, type) of every option and bounded field, nested sections included."""
    import dataclasses
    import typing

    found = []
    for name, hint in typing.get_type_hints(cls, include_extras=True).items():
        origin = typing.get_origin(hint)
        if dataclasses.is_dataclass(hint):
            found += _checked_fields(hint, f"{path}{name}.")  # type: ignore[arg-type]
        elif origin in (typing.Literal, typing.Annotated):
            found.append((f"{path}{name}", hint))
    return found


def _bad_value(hint: object) -> object:
    import typing

    if typing.get_origin(hint) is typing.Literal:
        return "no-such-option"
    base, bounds = typing.get_args(hint)
    below = bounds.low if bounds.above else bounds.low - 1
    return base(below) if bounds.high is None or below < bounds.low else bounds.high + 1


CHECKED = _checked_fields()


def test_every_option_count_and_fraction_field_is_checked() -> None:
    names = {path for path, _ in CHECKED}
    assert len(CHECKED) >= 60
    assert {"learner.act_mode", "loop.stop", "loop.eval_episodes", "learner.trunk"} <= names
    assert {"bootstrap.failure_rate", "loop.grow_threshold", "learner.discount"} <= names
    assert "learner.eval_episodes" not in {p for p, _ in _checked_fields()}  # read by nothing


@pytest.mark.parametrize(("path", "hint"), CHECKED, ids=[p for p, _ in CHECKED])
def test_a_bad_value_is_rejected_naming_the_field_and_what_it_accepts(
    path: str, hint: object
) -> None:
    import json

    value = _bad_value(hint)
    with pytest.raises(ConfigError, match=rf"^{path.replace('.', '[.]')} is .*; it accepts "):
        override(RunConfig(), [f"{path}={json.dumps(value)}"])


def test_the_highest_fraction_is_accepted_and_one_above_is_not() -> None:
    assert override(RunConfig(), ["bootstrap.failure_rate=1"]).bootstrap.failure_rate == 1.0
    with pytest.raises(ConfigError, match=r"it accepts >= 0 and <= 1"):
        override(RunConfig(), ["bootstrap.failure_rate=1.5"])


def test_a_config_made_directly_is_checked_too() -> None:
    import dataclasses

    from gameon_nb.config import LearnerConfig

    with pytest.raises(ConfigError, match=r"LearnerConfig.act_mode is 'foo'; it accepts"):
        LearnerConfig(act_mode="foo")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"LoopConfig.eval_episodes is -5"):
        dataclasses.replace(RunConfig().loop, eval_episodes=-5)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["learner.pixels=true"], "learner.pixels needs sim.pixels=true"),
        (["loop.outcome_source=judge", "data.view_frames=false"], "needs data.view_frames"),
        (["learner.v_min=1", "learner.v_max=0.5"], "must be below learner.v_max"),
        (["learner.task_fraction=0.8", "learner.hindsight_fraction=0.5"], "at most 1"),
    ],
)
def test_rules_between_fields_hold_for_every_entry_point(items: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        override(RunConfig(), items)


def test_the_curricula_a_config_accepts_are_the_registered_ones() -> None:
    import typing

    from gameon_nb.config import LoopConfig
    from gameon_nb.loop.curricula import CURRICULA

    hint = typing.get_type_hints(LoopConfig, include_extras=True)["curriculum"]
    assert set(typing.get_args(hint)) == set(CURRICULA)


@pytest.mark.parametrize(
    "assignment", ["learner.act_mode=foo", "loop.eval_episodes=-5", "loop.stop=convergd"]
)
def test_the_cli_refuses_a_bad_value_before_any_work(
    assignment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gameon_nb.cli import main

    run_dir = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["loop", "--run-dir", str(run_dir), "--preset", "tiny", "--set", assignment])
    assert exit_info.value.code == 2
    assert assignment.partition("=")[0] in capsys.readouterr().err
    assert not run_dir.exists()  # nothing was written, nothing ran


def test_config_errors_keep_their_wording_through_the_shared_decoder() -> None:
    assert from_dict(RunConfig, {"sim": {"image_size": [3, 4]}}).sim.image_size == (3, 4)
    with pytest.raises(ConfigError, match=r"^sim: expected a section \(mapping\), got 1$"):
        from_dict(RunConfig, {"sim": 1})
    with pytest.raises(ConfigError, match=r"^unknown field\(s\) \['x'\] in experimenter\.judge; "):
        from_dict(RunConfig, {"experimenter": {"judge": {"x": 1}}})
    with pytest.raises(ConfigError, match=r"^learner\.trunk is True; it accepts \['mlp', "):
        override(RunConfig(), ["learner.trunk=true"])
    with pytest.raises(ConfigError, match=r"^sim\.image_size is 0; it accepts >= 1$"):
        override(RunConfig(), ["sim.image_size=[0, 5]"])  # a tuple's items are named by its field
    with pytest.raises(ConfigError, match=r"^sim\.image_size: expected 2 items, got \[1\]$"):
        override(RunConfig(), ["sim.image_size=[1]"])
