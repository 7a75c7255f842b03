"""The domain at a glance, for the tour notebook: cameras, observations, actions, predicates, and
scripted skills recorded as episodes the RolloutViewer plays.

    >>> env = make_env(config.sim); env.reset(seed=0)
    >>> show_cameras(env)                               # every camera, side by side
    >>> predicate_table(env.scene_state())              # which skill predicates hold now
    >>> episode = scripted_episode(["lift the red block"], seed=0, config=config)

Each `*_html` returns self-contained HTML (inline PNGs), each `show_*` displays it; tables are
pandas DataFrames, which notebooks render as HTML by themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from gameon_nb.config import RunConfig, SimConfig
from gameon_nb.data.episode import Episode
from gameon_nb.data.recorder import Actor, record_episode
from gameon_nb.sim.controllers import scripted_controller
from gameon_nb.sim.env import PROPRIO_FIELDS, Obs, StackingEnv, make_env
from gameon_nb.sim.scene import SceneState
from gameon_nb.sim.templates import TEMPLATES
from gameon_nb.skills.skill import Skill
from gameon_nb.widgets.encoding import data_uri, encode_image
from gameon_nb.widgets.markup import BOX, escape

__all__ = [
    "ACTION_FIELDS",
    "action_table",
    "camera_names",
    "camera_views",
    "cameras_html",
    "drive",
    "frames_html",
    "observation_table",
    "predicate_table",
    "scripted_episode",
    "show_cameras",
    "show_frames",
]

ACTION_FIELDS = (
    ("vx", "gripper velocity along x, scaled by SimConfig.max_linear_speed"),
    ("vy", "gripper velocity along y, scaled by SimConfig.max_linear_speed"),
    ("vz", "gripper velocity along z, scaled by SimConfig.max_linear_speed"),
    ("vyaw", "gripper yaw rate, scaled by SimConfig.max_yaw_speed"),
    ("grip", "finger command: -1 fully open, +1 closed"),
)
"""The five action dimensions, in order, each in [-1, 1]."""


def camera_names(env: StackingEnv) -> list[str]:
    """Every camera of the scene, the experimenter's first.

    >>> camera_names(env)          # ['experimenter', 'front_left', 'front_right', 'top']
    """
    names = [env.model.camera(i).name for i in range(env.model.ncam)]
    return sorted(names, key=lambda c: (c != env.config.view_camera, c))


def camera_views(env: StackingEnv) -> dict[str, npt.NDArray[np.uint8]]:
    """One view_size frame from every camera of the scene as it is now.

    >>> views = camera_views(env); views["top"].shape
    """
    return {camera: env.render_view(camera) for camera in camera_names(env)}


def frames_html(
    frames: Mapping[str, npt.ArrayLike] | Sequence[tuple[str, npt.ArrayLike]], width: int = 240
) -> str:
    """Labelled frames side by side, inline PNGs.

    >>> frames_html({"before": first, "after": last}, width=160)
    """
    items = list(frames.items()) if isinstance(frames, Mapping) else list(frames)
    figures = "".join(
        f'<figure class="gameon-frame" style="margin:0 6px 6px 0;text-align:center">'
        f'<img src="{data_uri(encode_image(np.asarray(f), "png"), "image/png")}" '
        f'alt="{escape(label)}" style="width:{width}px;height:auto;display:block">'
        f'<figcaption style="font-size:12px;color:#555">{escape(label)}</figcaption></figure>'
        for label, f in items
    )
    return (
        f'<div class="gameon-frames gameon-static" style="{BOX};display:flex;flex-wrap:wrap">'
        f"{figures}</div>"
    )


def cameras_html(env: StackingEnv, width: int = 240) -> str:
    """Every camera's view of the scene, labelled.

    >>> cameras_html(env)
    """
    return frames_html(camera_views(env), width)


def show_frames(
    frames: Mapping[str, npt.ArrayLike] | Sequence[tuple[str, npt.ArrayLike]], width: int = 240
) -> None:
    """Display labelled frames side by side.

    >>> show_frames({"before": first, "after": last})
    """
    from IPython.display import HTML, display

    display(HTML(frames_html(frames, width)))  # type: ignore[no-untyped-call]


def show_cameras(env: StackingEnv, width: int = 240) -> None:
    """Display every camera's view of the scene.

    >>> show_cameras(env)
    """
    show_frames(camera_views(env), width)


def observation_table(obs: Obs) -> Any:
    """One row per observation entry: shape, dtype, range, and what it holds.

    >>> obs, _ = env.reset(seed=0); observation_table(obs)
    """
    import pandas as pd

    meaning = {
        "proprio": "gripper: " + ", ".join(PROPRIO_FIELDS),
        "objects": "per block (red, green, blue): x, y, z, quaternion w, x, y, z",
    }
    rows = [
        {
            "key": key,
            "shape": tuple(np.shape(value)),
            "dtype": str(np.asarray(value).dtype),
            "min": float(np.min(value)),
            "max": float(np.max(value)),
            "holds": meaning.get(key, "camera image (pixels on)"),
        }
        for key, value in obs.items()
    ]
    return pd.DataFrame(rows).set_index("key")


def action_table(sim: SimConfig | None = None) -> Any:
    """The action's five dimensions with their meaning and full-scale speed.

    >>> action_table(config.sim)
    """
    import pandas as pd

    sim = sim or SimConfig()
    scale = [sim.max_linear_speed] * 3 + [sim.max_yaw_speed, None]
    unit = ["m/s"] * 3 + ["rad/s", ""]
    return pd.DataFrame(
        [
            {"index": i, "name": name, "at +1": "" if s is None else f"{s} {u}", "meaning": text}
            for i, ((name, text), s, u) in enumerate(zip(ACTION_FIELDS, scale, unit, strict=True))
        ]
    ).set_index("index")


def drive(
    env: StackingEnv, action: npt.ArrayLike, steps: int, frame_every: int = 5
) -> list[tuple[str, npt.NDArray[np.uint8]]]:
    """Apply one action for `steps` control steps; labelled view frames every `frame_every`.

    >>> show_frames(drive(env, [1, 0, 0, 0, -1], steps=20))     # move along +x, fingers open
    """
    frames = [("step 0", env.render_view())]
    for step in range(1, steps + 1):
        env.step(np.asarray(action, dtype=np.float32))
        if step % frame_every == 0 or step == steps:
            frames.append((f"step {step}", env.render_view()))
    return frames


def predicate_table(state: SceneState, templates: Sequence[str] | None = None) -> Any:
    """Every skill of the templates (default: all) and whether its predicate holds in `state`.

    >>> table = predicate_table(env.scene_state()); table[table.holds]
    """
    import pandas as pd

    names = list(TEMPLATES) if templates is None else list(templates)
    rows = [
        {
            "skill": TEMPLATES[name].text(colours),
            "template": name,
            "kind": "base" if TEMPLATES[name].base else "candidate",  # the library's words
            "holds": bool(TEMPLATES[name].success(state, colours)),
        }
        for name in names
        for colours in TEMPLATES[name].instances()
    ]
    return pd.DataFrame(rows)


def _scripted_actor(sim: SimConfig) -> Any:
    def actor_for(skill: Skill) -> Actor:
        controller = scripted_controller(skill.template, skill.colours, sim)
        return lambda obs, state: controller(state)

    return actor_for


def scripted_episode(
    skills: Sequence[str],
    *,
    seed: int = 0,
    config: RunConfig | None = None,
    task: str = "",
    stop_on_success: bool = False,
) -> Episode:
    """The scripted controllers execute `skills` in turn from a seeded reset; frames are kept
    as the config's data section says (view frames for the RolloutViewer).

    >>> episode = scripted_episode(["grasp the red block", "lift the red block"], seed=3)
    >>> episode.segment_success()           # [True, True]
    """
    config = config or RunConfig()
    parsed = [Skill.from_text(s) for s in skills]
    env = make_env(config.sim)
    try:
        return record_episode(
            env,
            parsed,
            _scripted_actor(config.sim),
            seed=seed,
            data=config.data,
            task=task or ", then ".join(s.text for s in parsed),
            source="scripted",
            stop_on_success=stop_on_success,
        )
    finally:
        env.close()
