"""What a notebook calls with its parameters: the config, the run, the data, the experimenter.

    >>> config = notebook_config(preset="tiny", rounds=1, overrides=["loop.envs=1"])
    >>> exp = start_experiment(run_dir, config)        # new, or the same config resumed
    >>> config = ensure_episodes(run_dir, config)      # bootstrap data, if the run has none
    >>> judge = notebook_experimenter(config, "auto", run.judge_eval_dir("auto"))

The parameters `notebook_config` takes, and what each sets, are declared once in
`gameon_nb.known_parameters`; `gameon batch` builds the same config from the same declarations
to check a run's parameters before it starts. API keys are read from the environment only
(`choose_backend`), never passed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameon_nb.api_keys import choose_backend
from gameon_nb.config import RunConfig, override, to_dict
from gameon_nb.known_parameters import CONFIG_PARAMETERS, KNOWN_PARAMETERS
from gameon_nb.notebook_errors import ParameterError

if TYPE_CHECKING:
    from gameon_nb.experimenter.experimenter import Experimenter
    from gameon_nb.loop.experiment import Experiment

__all__ = [
    "choose_backend",
    "config_assignments",
    "ensure_episodes",
    "notebook_config",
    "notebook_experimenter",
    "start_experiment",
]


def config_assignments(**parameters: object) -> list[str]:
    """The `section.field=value` list of a notebook's config parameters, in the order of
    `CONFIG_PARAMETERS`: the preset's, then the named fields', then `overrides` (last wins).
    A parameter given as None is left out.

    >>> config_assignments(preset="tiny", overrides=["loop.envs=1"], rounds=1)[-2:]
    ['loop.rounds=1', 'loop.envs=1']
    """
    unknown = [name for name in parameters if name not in CONFIG_PARAMETERS]
    if unknown:
        raise ParameterError(
            f"{unknown[0]!r} is not a config parameter; known: {', '.join(CONFIG_PARAMETERS)}"
        )
    return [
        assignment
        for name in CONFIG_PARAMETERS
        if parameters.get(name) is not None
        for assignment in KNOWN_PARAMETERS[name].assignments(parameters[name])
    ]


def notebook_config(**parameters: object) -> RunConfig:
    """The RunConfig of a notebook's parameters (see `config_assignments`), validated.

    >>> config = notebook_config(preset="tiny", rounds=1)
    >>> config = notebook_config(overrides=["sim.view_size=[360,480]"])
    """
    return override(RunConfig(), config_assignments(**parameters))


def _differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b))
            for d in _differences(a.get(k), b.get(k), f"{prefix}{k}.")
        ]
    return [] if a == b else [f"{prefix.rstrip('.')}: {json.dumps(a)} vs {json.dumps(b)}"]


def start_experiment(
    run_dir: Path | str, config: RunConfig, *, progress: bool = True
) -> Experiment:
    """A new Experiment in `run_dir`, or the run there resumed when its config is this one; a
    run with another config is an error naming the differences (choose another run_dir).

    >>> exp = start_experiment("runs/quickstart", notebook_config(preset="demo"))
    """
    from gameon_nb.loop.experiment import Experiment
    from gameon_nb.run.dir import RunDir, RunStateError

    run = RunDir(run_dir)
    if run.state_path.exists():
        diff = _differences(to_dict(run.load_config()), to_dict(config))
        if diff:
            raise RunStateError(
                f"{run.root} holds a run with another config ({'; '.join(diff[:5])}"
                f"{' ...' if len(diff) > 5 else ''}, saved vs asked); choose another run_dir "
                "or delete that one"
            )
        return Experiment.resume(run.root, progress=progress)
    return Experiment(run.root, config, progress=progress)


def ensure_episodes(run_dir: Path | str, config: RunConfig, *, progress: bool = True) -> RunConfig:
    """The config of the episodes in `run_dir`: a run's own saved config when it has one, else
    `config`, with which the bootstrap data set is written first if the store is empty.

    >>> config = ensure_episodes("runs/judge_eval", notebook_config(preset="demo"))
    """
    from gameon_nb.data.bootstrap import bootstrap
    from gameon_nb.run.dir import RunDir

    run = RunDir(run_dir)
    if run.config_path.exists():
        config = run.load_config()
    if not len(run.store()):
        run.root.mkdir(parents=True, exist_ok=True)
        bootstrap(run.root, config, progress=progress)
        if not run.config_path.exists():
            run.save_config(config)
    return config


def notebook_experimenter(
    config: RunConfig,
    backend: str,
    root: Path | str,
    roles: Sequence[str] = ("judge", "analyst"),
) -> Experimenter:
    """An Experimenter whose `roles` use `backend` ('auto', 'gemini', 'scripted', ...), with its
    call log and cache in `root` (never the key: backends read it from the environment).

    >>> judge = notebook_experimenter(config, "auto", run.judge_eval_dir("auto"))
    """
    from gameon_nb.experimenter.experimenter import Experimenter

    chosen = choose_backend(backend)
    settings = config.experimenter
    for role in roles:
        own = dataclasses.replace(getattr(settings, role), backend=chosen)
        settings = dataclasses.replace(settings, **{role: own})
    return Experimenter(settings, Path(root), seed=config.seed)
