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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from gameon_nb.records import Decoder, Json, JsonObject, type_hints

__all__ = [
    "BootstrapConfig",
    "ConfigError",
    "DataConfig",
    "ExperimenterConfig",
    "LearnerConfig",
    "LoopConfig",
    "RoleConfig",
    "RunConfig",
    "SimConfig",
    "from_dict",
    "override",
    "to_dict",
]


class ConfigError(ValueError):
    """A config field name or value that does not fit the schema."""


_DECODER = Decoder(
    ConfigError,
    mapping="{where}: expected a section (mapping), got {value!r}",
    unknown="unknown field(s) {unknown} in {where}; known: {known}",
    sequence="{where}: expected a list, got {value!r}",
    length="{where}: expected {n} items, got {value!r}",
    option="{where} is {value!r}; it accepts {options}",
    no_fit="{where}: {value!r} does not fit {hint}",
    unsupported="{where}: unsupported field type {hint}",
    item="{where}",
)
"""Reads configs as records are read, in the words of config files and `--set` options."""


@dataclass(frozen=True)
class Range:
    """Bounds of a numeric field, checked wherever a config is made."""

    low: float | None = None
    high: float | None = None
    above: bool = False
    """`low` itself is excluded."""

    def check(self, value: float, where: str) -> None:
        too_low = self.low is not None and (value <= self.low if self.above else value < self.low)
        if too_low or (self.high is not None and value > self.high):
            raise ConfigError(f"{where} is {value!r}; it accepts {self}")

    def __str__(self) -> str:
        low = "" if self.low is None else f"{'>' if self.above else '>='} {self.low:g}"
        high = "" if self.high is None else f"<= {self.high:g}"
        return " and ".join(p for p in (low, high) if p)


PositiveInt = Annotated[int, Range(1)]
NonNegativeInt = Annotated[int, Range(0)]
PositiveFloat = Annotated[float, Range(0, above=True)]
NonNegativeFloat = Annotated[float, Range(0)]
Fraction = Annotated[float, Range(0, 1)]
Size = tuple[PositiveInt, PositiveInt]
Backend = Literal["scripted", "gemini", "openai", "replay"]


class _Checked:
    """Every field checked against its type (options, bounds) when a config is made, however
    it is made: `from_dict`, `override`, `dataclasses.replace` or a direct call."""

    def __post_init__(self) -> None:
        name = type(self).__name__
        for key, hint in type_hints(type(self)).items():
            if not dataclasses.is_dataclass(hint):
                _DECODER.decode(hint, getattr(self, key), f"{name}.{key}")


@dataclass(frozen=True)
class SimConfig(_Checked):
    """The table-top stacking domain: control, actions, observations and rendering."""

    control_hz: PositiveInt = 20
    """Control steps per second; the physics runs at 2 ms, so 25 substeps at 20 Hz."""
    max_linear_speed: PositiveFloat = 0.25
    """Gripper speed in m/s commanded by an action of 1 on vx, vy or vz."""
    max_yaw_speed: PositiveFloat = 1.5
    """Gripper yaw rate in rad/s commanded by an action of 1 on vyaw."""
    episode_steps: PositiveInt = 400
    """Control steps before an episode is truncated."""
    pixels: bool = False
    """Add one uint8 image per camera in `cameras` to each observation."""
    cameras: tuple[str, ...] = ("front_left", "front_right")
    """Cameras rendered into observations when `pixels` is on."""
    image_size: Size = (64, 64)
    """(height, width) of observation images."""
    shadows: bool = False
    """Shadows in observation images (software rendering is about 5x slower with them)."""
    reflections: bool = False
    """Table reflections in observation images."""
    view_camera: str = "experimenter"
    """Camera of `env.render()`: the wide view shown to people and to the VLM."""
    view_size: Size = (180, 240)
    """(height, width) of `env.render()` images."""
    view_shadows: bool = False
    """Shadows and reflections in `env.render()` images (prettier, several times slower)."""
    spawn_half_extent: PositiveFloat = 0.12
    """Blocks spawn with x and y in [-e, e] metres."""
    min_block_distance: NonNegativeFloat = 0.11
    """Minimum distance between block centres at reset, in metres. Above the 'next to' range
    (at most 0.10 m), so no composite skill already holds at a reset."""


@dataclass(frozen=True)
class DataConfig(_Checked):
    """What each stored episode keeps besides actions, proprio and scene states."""

    frame_every: PositiveInt = 5
    """Keep frames every this many control steps, and at every skill's start and end."""
    policy_frames: bool = True
    """Keep the policy cameras' frames (SimConfig.cameras at image_size), for pixel learning."""
    view_frames: bool = True
    """Keep the experimenter camera's frames (at view_size), for viewing and judging."""


@dataclass(frozen=True)
class BootstrapConfig(_Checked):
    """The starting data set: scripted chains of base skills, with noise and failures."""

    episodes: NonNegativeInt = 200
    """Episodes to write."""
    noise: NonNegativeFloat = 0.1
    """Standard deviation of Gaussian noise added to every scripted action."""
    failure_rate: Fraction = 0.2
    """Chance that a skill execution is sabotaged (random actions, or giving up half-way)."""
    max_chain: PositiveInt = 3
    """Longest chain of base skills in one episode (lengths are uniform from 1)."""
    workers: PositiveInt = 2
    """Processes that simulate; episodes are written in seed order whatever this is."""
    composites: Literal["keep", "exclude"] = "keep"
    """'keep' the composite successes that random chains produce by chance (a held block let go
    over another is a stack), or 'exclude' them: each episode ends before any composite skill's
    predicate first holds, so composites can only be learned from the loop's own collection."""


@dataclass(frozen=True)
class LearnerConfig(_Checked):
    """The language-conditioned offline actor-critic (after PAC): networks, losses, sampling."""

    trunk: Literal["mlp", "perceiver"] = "mlp"
    """'mlp' (the CPU default) or 'perceiver' (latents cross-attend input tokens; for GPUs)."""
    pixels: bool = False
    """Also encode the policy cameras' frames (needs episodes stored with policy frames)."""
    hidden: PositiveInt = 128
    """Width of the MLP trunk and of the heads. 256 with 4 action samples keeps a CPU's matmuls
    busier and learns the base skills as fast, but learned the demo's stacks worse (benchmarks/
    README.md, the learning-speed study)."""
    layers: PositiveInt = 3
    """Layers of the MLP trunk."""
    text_dim: PositiveInt = 32
    """Width of a word embedding of the skill-text encoder."""
    max_words: PositiveInt = 12
    """Longest skill text in words; the encoder is position-aware, so word order matters."""
    bind_arguments: bool = True
    """Feed the blocks in the order the skill text names them (then the rest), with their colour,
    so "grasp the red block" and "grasp the blue block" share one learned grasp."""
    relations: bool = True
    """Give each block its offsets to the other blocks (in the bound slot order): the
    centimetres that decide a stack or a hold above, read directly."""
    latents: PositiveInt = 16
    """Perceiver: learned latent vectors."""
    latent_dim: PositiveInt = 128
    """Perceiver: width of latents and tokens."""
    heads: PositiveInt = 4
    """Perceiver: attention heads."""
    blocks: PositiveInt = 2
    """Perceiver: self-attention blocks after the cross-attention."""
    conv_channels: tuple[int, ...] = (16, 32)
    """Channels of the conv stem's stride-2 layers that turn each camera frame into tokens."""
    bins: Annotated[int, Range(2)] = 21
    """Bins per action dimension of the factorised categorical policy (over [-1, 1])."""
    atoms: Annotated[int, Range(2)] = 51
    """Atoms of the distributional critic over [v_min, v_max]."""
    v_min: float = 0.0
    """Lowest return of the critic's support (rewards are 0 or 1, success ends the skill)."""
    v_max: float = 1.0
    """Highest return of the critic's support."""
    discount: Fraction = 0.97
    """Per-step discount (20 Hz control)."""
    n_step: PositiveInt = 5
    """Steps of reward summed in the TD target before bootstrapping."""
    action_samples: PositiveInt = 8
    """Actions sampled from the policy per state: for the TD expectation and the improvement."""
    bc_weight: NonNegativeFloat = 0.7
    """Policy loss = bc_weight * behaviour cloning + (1 - bc_weight) * policy improvement."""
    eta: PositiveFloat = 0.05
    """Temperature of the improvement target softmax(Q / eta) over sampled actions."""
    critic_weight: NonNegativeFloat = 1.0
    """Weight of the critic's cross-entropy in the total loss."""
    batch_size: PositiveInt = 256
    """(transition, skill) pairs per update."""
    lr: PositiveFloat = 1e-3
    """Adam learning rate."""
    grad_clip: PositiveFloat = 10.0
    """Gradient norm clip."""
    target_period: PositiveInt = 200
    """Updates between copies of the online networks into the target networks."""
    task_fraction: Fraction = 0.5
    """Share of a batch drawn from steps executed for that very skill."""
    hindsight_fraction: Fraction = 0.3
    """Share drawn from steps leading to a skill's success, whatever was executed (relabelled)."""
    bc_success_only: bool = True
    """Clone only executions that succeeded (and hindsight windows); failures teach the critic."""
    hindsight_bc: Literal["composite", "all", "none"] = "composite"
    """Whose hindsight windows are cloned: 'composite' skills (stack, next-to, tower: a chain of
    base skills that came true is a demonstration of them), 'all', or 'none'. Base skills come
    true by chance inside unrelated motion (the gripper opens while descending), so cloning
    those windows teaches them the wrong thing; their rewards still teach the critic."""
    log_every: PositiveInt = 250
    """Updates per metrics row of `fit`."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """'auto' (CUDA with bf16 autocast when present, else CPU), 'cpu' or 'cuda'."""
    eval_envs: PositiveInt = 10
    """Environments stepped in lockstep during evaluation, with batched policy inference."""
    eval_stop_on_success: bool = True
    """An evaluation succeeds when the predicate holds at any step (else: at the last step)."""
    act_mode: Literal["mean", "mode", "sample", "critic", "best_of"] = "critic"
    """How an action is read off the policy: 'mean' (expected bin value per dimension), 'mode'
    (likeliest bin), 'sample', 'critic' (the critic picks among each dimension's modes) or
    'best_of' (the critic picks among `act_samples` samples and the mean)."""
    act_samples: PositiveInt = 16
    """Policy samples the critic chooses among under act_mode 'best_of'."""


@dataclass(frozen=True)
class RoleConfig(_Checked):
    """Which backend and model play one experimenter role; empty means the experimenter's own."""

    backend: Literal["", "scripted", "gemini", "openai", "replay"] = ""
    """'gemini', 'openai', 'scripted' or 'replay'; empty: ExperimenterConfig.backend."""
    model: str = ""
    """Model id; empty: the backend's model in ExperimenterConfig."""
    temperature: float = -1.0
    """Sampling temperature; negative: ExperimenterConfig.temperature."""


@dataclass(frozen=True)
class ExperimenterConfig(_Checked):
    """The VLM experimenter: backends per role, retries, cache, budget, and call log."""

    backend: Backend = "scripted"
    """Default backend of every role: 'scripted' (offline), 'gemini', 'openai' or 'replay'."""
    proposer: RoleConfig = field(default_factory=RoleConfig)
    """Proposes the next task from the scene, the library and the history."""
    decomposer: RoleConfig = field(default_factory=RoleConfig)
    """Splits a task into steps in words."""
    judge: RoleConfig = field(default_factory=RoleConfig)
    """Judges a skill's success from frames."""
    analyst: RoleConfig = field(default_factory=RoleConfig)
    """Judges a skill's learning curve: learned, converged, add, keep training."""
    gemini_model: str = "gemini-2.5-flash"
    """Model id of the gemini backend."""
    gemini_base_url: str = ""
    """Base URL of the Gemini API; empty: $GEMINI_BASE_URL, else the SDK's default."""
    openai_model: str = "gpt-4o-mini"
    """Model id of the openai backend (for vLLM or Ollama, the served model's name)."""
    openai_base_url: str = ""
    """Base URL of an OpenAI-compatible server; empty: $OPENAI_BASE_URL, else api.openai.com."""
    scripted_judge_error: Fraction = 0.0
    """Fraction of the scripted judge's verdicts it flips (the same ones for the same skill and
    frames): a stand-in for an imperfect VLM judge, to measure what judge errors cost the loop
    (with loop.outcome_source=judge). Fallbacks to the rules stay exact."""
    temperature: NonNegativeFloat = 0.0
    """Sampling temperature of every role unless the role sets its own."""
    timeout_s: PositiveFloat = 60.0
    """Seconds before one request times out (a transient fault)."""
    max_retries: NonNegativeInt = 4
    """Retries of a transient fault (429, 5xx, timeout, connection) before the call fails."""
    backoff_s: NonNegativeFloat = 0.5
    """First backoff before a retry; doubled each time, with jitter, up to backoff_max_s."""
    backoff_max_s: NonNegativeFloat = 8.0
    """Longest backoff between retries."""
    cache: bool = True
    """Answer a request seen before from the run's content-addressed cache."""
    budget_usd: NonNegativeFloat = 5.0
    """Spending cap of the run; a call that would pass it is refused with a clear message."""
    prices: tuple[tuple[str, float, float], ...] = (
        ("gemini-2.5-flash", 0.30, 2.50),
        ("gemini-2.5-pro", 1.25, 10.0),
        ("gpt-4o-mini", 0.15, 0.60),
        ("gpt-4o", 2.50, 10.0),
    )
    """(model, USD per million input tokens, USD per million output tokens); unknown: free."""
    replay_log: str = ""
    """Call log (calls.jsonl) the replay backend answers from."""
    replay_fallback: Literal["", "scripted", "gemini", "openai"] = ""
    """Backend asked when replay has no answer; empty: a miss is an error."""
    judge_frames: PositiveInt = 2
    """Frames of a segment shown to the judge: 2 is its first and last frame."""


@dataclass(frozen=True)
class LoopConfig(_Checked):
    """The experiment loop: curriculum, collection, training, evaluation, growth and stopping."""

    rounds: NonNegativeInt = 6
    """Round budget."""
    curriculum: Literal["experimenter", "random", "fixed", "target", "none"] = "experimenter"
    """Who chooses tasks: 'experimenter' (the VLM, or the scripted rules), 'random', 'fixed',
    'target', or 'none' (offline-only: no collection, the same updates on the data so far)."""
    targets: tuple[str, ...] = (
        "stack the red block on the blue block",
        "stack the green block on the red block",
        "stack the blue block on the green block",
    )
    """The skills the study is after: evaluated every round, the 'target' curriculum's tasks."""
    fixed_schedule: tuple[str, ...] = (
        "lift the red block",
        "hold the red block above the blue block",
        "stack the red block on the blue block",
        "stack the green block on the red block",
        "stack the blue block on the green block",
    )
    """Tasks of the 'fixed' curriculum, one per round, cycled."""
    episodes_per_task: PositiveInt = 8
    """Episodes collected for the round's task (one task is proposed per round)."""
    envs: PositiveInt = 8
    """Environments stepped in lockstep during collection (one batched policy call per step)."""
    collectors: NonNegativeInt = 0
    """Ray actors that collect (each with `envs` lockstep envs and a copy of the policy), on the
    cluster at RAY_ADDRESS, else a local Ray; 0: in this process, no Ray (the same episodes)."""
    exploration_noise: NonNegativeFloat = 0.1
    """Standard deviation of Gaussian noise added to the policy's actions during collection."""
    stop_on_success: bool = False
    """End a skill early when its predicate holds (beyond the paper, which used fixed durations)."""
    judge_fraction: Fraction = 0.25
    """Share of executed skill segments the configured judge also judges (ground truth: all)."""
    outcome_source: Literal["truth", "judge"] = "truth"
    """Whose word the loop acts on: 'truth' (the success predicates) or 'judge' (the configured
    judge, which then judges every executed skill and task, and every evaluation episode of a
    candidate that could join): the history the curriculum reads, the task outcomes and the
    evidence for growth. Evaluated success rates stay on the predicates either way."""
    pretrain_steps: NonNegativeInt = 4000
    """Learner updates on the bootstrap data before the first round."""
    train_steps: NonNegativeInt = 1500
    """Learner updates per round, fine-tuning from the last checkpoint on all data."""
    checkpoint_every: PositiveInt = 500
    """Updates between training checkpoints, from which a killed run resumes."""
    eval_episodes: PositiveInt = 20
    """Evaluation episodes per skill per round, from fresh resets."""
    eval_base: bool = False
    """Also evaluate every base skill each round (else: targets, candidates practised, learned)."""
    screen_every: NonNegativeInt = 1
    """Every this many rounds (and in round 0 and the last), every other candidate skill with data
    (its predicate came true somewhere in the store) is screened; 0: never."""
    screen_episodes: PositiveInt = 8
    """Evaluation episodes of a screened candidate; one whose rate could still reach
    grow_threshold (upper 95% bound) gets the rest of eval_episodes, so it can join."""
    grow_threshold: Fraction = 0.7
    """Least measured success for a candidate to join the library."""
    grow_min_episodes: PositiveInt = 20
    """Least evaluation episodes behind that measurement."""
    grow_rule_only: bool = False
    """Grow by the measurement alone; otherwise the analyst must also judge the skill learned."""
    stop: Literal["budget", "converged"] = "budget"
    """'budget' (run every round) or 'converged' (stop when the analyst judges every target
    converged in two consecutive rounds)."""
    tensorboard: bool = True
    """Write TensorBoard event files to the run's tb/ as it runs (needs the `tensorboard` extra;
    without it the run warns once and writes none)."""


@dataclass(frozen=True)
class RunConfig(_Checked):
    """Everything a run needs, resolved and saved in its run directory."""

    seed: NonNegativeInt = 0
    """Seed of every random choice in the run."""
    sim: SimConfig = field(default_factory=SimConfig)
    """The simulated domain."""
    data: DataConfig = field(default_factory=DataConfig)
    """What episodes keep."""
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)
    """The starting data set."""
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    """The offline actor-critic."""
    experimenter: ExperimenterConfig = field(default_factory=ExperimenterConfig)
    """The VLM experimenter."""
    loop: LoopConfig = field(default_factory=LoopConfig)
    """The experiment loop."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for rule in RULES:
            rule(self)


def _rule(holds: Callable[[RunConfig], bool], message: str) -> Callable[[RunConfig], None]:
    """A rule between fields: `holds(config)`, else a ConfigError with `message`."""

    def check(config: RunConfig) -> None:
        if not holds(config):
            raise ConfigError(message.format(c=config))

    return check


RULES = (
    _rule(
        lambda c: not c.learner.pixels or (c.sim.pixels and c.data.policy_frames),
        "learner.pixels needs sim.pixels=true and data.policy_frames=true (the policy acts on "
        "camera frames, and learns from stored ones)",
    ),
    _rule(
        lambda c: c.loop.outcome_source != "judge" or c.data.view_frames,
        "loop.outcome_source=judge needs data.view_frames=true: the judge sees frames",
    ),
    _rule(
        lambda c: c.learner.v_min < c.learner.v_max,
        "learner.v_min ({c.learner.v_min}) must be below learner.v_max ({c.learner.v_max})",
    ),
    _rule(
        lambda c: c.learner.task_fraction + c.learner.hindsight_fraction <= 1,
        "learner.task_fraction + learner.hindsight_fraction must be at most 1 (the rest of a "
        "batch is drawn uniformly)",
    ),
    _rule(
        lambda c: c.learner.trunk != "perceiver" or c.learner.latent_dim % c.learner.heads == 0,
        "learner.latent_dim ({c.learner.latent_dim}) must be a multiple of learner.heads "
        "({c.learner.heads})",
    ),
)
"""Rules between fields, checked whenever a RunConfig is made: one place for every entry point
(the CLI, notebooks, `Experiment`, `gameon train`, papermill parameters)."""


C = TypeVar("C")


def to_dict(config: Any) -> dict[str, Json]:
    """The config as plain JSON-ready data (tuples become lists)."""
    data: dict[str, Json] = json.loads(json.dumps(dataclasses.asdict(config)))
    return data


def from_dict(cls: type[C], data: JsonObject, path: str = "") -> C:
    """Build `cls` from plain data, checking every name, type, option and bound; unknown names
    are errors. `path` ('learner.') prefixes the field names in messages."""
    return _DECODER.build(cls, data, path.rstrip("."))


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
            child = node.get(part)
            if not isinstance(child, dict):
                raise ConfigError(f"{path!r}: {part!r} is not a config section")
            node = child
        if leaf not in node or isinstance(node[leaf], dict):
            raise ConfigError(f"{path!r} is not a config field; fields here: {sorted(node)}")
        try:
            node[leaf] = json.loads(text)
        except json.JSONDecodeError:
            node[leaf] = text
    return from_dict(type(config), data)
