"""The domain check: Gymnasium's `check_env`, then every scripted controller over seeded resets.

    >>> report = check_domain(resets=100)
    >>> report["check_env"], report["templates"]["stack"]["success"]
    ('pass', 1.0)

`gameon check-env --json` prints this report. Episode `i` resets with seed `i` and cycles through
the template's colour tuples, so every colour combination is measured.
"""

from __future__ import annotations

import warnings
from typing import Literal, TypedDict

from gymnasium.utils.env_checker import check_env

from gameon_nb.config import SimConfig
from gameon_nb.progress import progress_bar
from gameon_nb.sim.controllers import scripted_controller
from gameon_nb.sim.env import make_env
from gameon_nb.sim.gl import RenderingUnavailableError
from gameon_nb.sim.templates import TEMPLATES

__all__ = [
    "TARGETS",
    "DomainReport",
    "ScriptedSuccess",
    "check_domain",
    "check_gymnasium",
    "scripted_success",
]

TARGETS = {
    "open": 0.95,
    "move_above": 0.95,
    "grasp": 0.95,
    "lift": 0.95,
    "hold_above": 0.95,
    "stack": 0.90,
    "next_to": 0.90,
    "tower": 0.80,
}
"""Least scripted success rate per template for the domain to count as working."""


class ScriptedSuccess(TypedDict):
    """One template's scripted controller over seeded resets."""

    success: float
    episodes: int
    target: float
    meets_target: bool
    by_colour: dict[str, float]
    """Success per colour tuple ("red/blue"; "-" for a template without colours)."""


DomainReport = TypedDict(
    "DomainReport",
    {
        "check_env": Literal["pass", "fail"],
        "check_env_detail": dict[str, str],
        "resets": int,
        "templates": dict[str, ScriptedSuccess],
        "pass": bool,
    },
)
"""What `gameon check-env --json` prints; "pass": check_env passed and every template met its
target."""


def check_gymnasium(pixels: bool = True) -> dict[str, str]:
    """Run Gymnasium's `check_env` on the state env and, if `pixels`, on the pixel env, both
    rendering; with `pixels` off nothing is rendered (the state env's render check is skipped).

    A rendering failure is a "fail: ..." result: pixels were asked for and do not work."""
    results: dict[str, str] = {}
    for name in ("state", "pixels") if pixels else ("state",):
        env = make_env(render_mode="rgb_array" if pixels else None, pixels=name == "pixels")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # check_env warns, it does not fail, on style
                check_env(env, skip_render_check=not pixels)
            results[name] = "pass"
        except RenderingUnavailableError as error:
            results[name] = f"fail: {error} (or run `gameon check-env --no-pixels`)"
        finally:
            env.close()
    return results


def scripted_success(
    template: str, resets: int, config: SimConfig | None = None, progress: bool = True
) -> ScriptedSuccess:
    """Success rate of `template`'s scripted controller over `resets` seeded episodes."""
    t = TEMPLATES[template]
    env = make_env(config)
    instances = list(t.instances()) or [()]
    by_colour: dict[str, list[bool]] = {"/".join(i) or "-": [] for i in instances}
    for seed in progress_bar(range(resets), desc=template, disable=not progress, leave=False):
        colours = instances[seed % len(instances)]
        env.reset(seed=seed)
        controller = scripted_controller(template, colours, env.config)
        for _ in range(t.duration):
            env.step(controller(env.scene_state()))
        by_colour["/".join(colours) or "-"].append(bool(t.success(env.scene_state(), colours)))
    env.close()
    outcomes = [ok for oks in by_colour.values() for ok in oks]
    success = sum(outcomes) / len(outcomes)
    return ScriptedSuccess(
        success=success,
        episodes=len(outcomes),
        target=TARGETS[template],
        meets_target=success >= TARGETS[template],
        by_colour={k: sum(v) / len(v) for k, v in by_colour.items() if v},
    )


def check_domain(resets: int = 100, pixels: bool = True, progress: bool = True) -> DomainReport:
    """Gymnasium's checks and the scripted success of every template; see the module docstring."""
    gym_results = check_gymnasium(pixels)
    templates = {name: scripted_success(name, resets, progress=progress) for name in TEMPLATES}
    gym_ok = all(r == "pass" for r in gym_results.values())
    return {
        "check_env": "pass" if gym_ok else "fail",
        "check_env_detail": gym_results,
        "resets": resets,
        "templates": templates,
        "pass": gym_ok and all(t["meets_target"] for t in templates.values()),
    }
