"""Collection on Ray actors, each with its own lockstep envs and a copy of the policy.

    >>> pool = CollectorPool(2)       # RAY_ADDRESS, else a local Ray (an open session is reused)
    >>> for episode in pool.collect(learner, seed_for, jobs, config, round=3):
    ...     store.append(episode)     # job order, each once, as `collect` would give them
    >>> pool.close()                  # the actors, and Ray if the pool started it

The waves are those of `collect` (`waves(jobs, loop.envs)`), wave `w` acting with a policy seeded
`seed_for(w)`; they go to whichever actor is free, and come back whole, in job order. The acting
weights (the model with its input normalisation) go through the object store once per `collect`.
An actor that dies is replaced and its unfinished waves run again on the same seeds, so nothing is
lost and nothing comes twice. Actors act on the CPU with the driver's torch thread count, so on
machines alike their actions are bit-identical to those of the in-process path on the CPU (not to
a CUDA learner's). Ray is an optional extra, imported when a pool is made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import torch

from gameon_nb.config import LearnerConfig, RunConfig
from gameon_nb.data.episode import Episode
from gameon_nb.executors import ray_session
from gameon_nb.learner.trainer import Learner
from gameon_nb.loop.collect import CollectJob, run_wave, waves
from gameon_nb.progress import progress_bar
from gameon_nb.sim.env import StackingEnv, make_env

__all__ = ["Acting", "Collector", "CollectorError", "CollectorPool", "acting_weights"]

IN_FLIGHT = 2
"""Waves queued on one actor at a time, so that it starts the next the moment one ends."""
REPLACEMENTS = 3
"""Actors that may die in one `collect`, per collector, before it gives up."""


class CollectorError(RuntimeError):
    """Collection on Ray cannot start (too few CPUs) or finish (its actors kept dying)."""


@dataclass(frozen=True)
class Acting:
    """What an actor's learner is made from: the driver's learner config and cameras (the actor
    acts on the CPU), and the driver's torch thread count."""

    config: LearnerConfig
    cameras: tuple[str, ...]
    threads: int


def acting_weights(learner: Learner) -> dict[str, torch.Tensor]:
    """What acting needs of a learner: its model's tensors (normalisers included), on the CPU."""
    return {k: v.detach().to("cpu", copy=True) for k, v in learner.model.state_dict().items()}


class Collector:
    """What one actor holds: envs and a CPU learner, made again only when the config changes."""

    def __init__(self) -> None:
        self.config: RunConfig | None = None
        self.envs: list[StackingEnv] = []
        self.learner: Learner | None = None
        self.loaded = -1
        """The `load` whose weights the learner holds: a wave of another is refused."""

    def ready(self) -> int:
        """The actor's process id, once it is up."""
        return os.getpid()

    def load(
        self, weights: dict[str, torch.Tensor], config: RunConfig, acting: Acting, load: int
    ) -> None:
        """Take a round's weights and config (envs and learner are made again if they changed)."""
        torch.set_num_threads(acting.threads)  # the driver's count: kernels round alike
        old = self.config
        if old is None or (old.sim, old.loop.envs) != (config.sim, config.loop.envs):
            for env in self.envs:
                env.close()
            self.envs = [make_env(config.sim) for _ in range(config.loop.envs)]
        cpu = dataclasses.replace(acting.config, device="cpu")
        learner = self.learner
        if learner is None or (learner.config, learner.cameras) != (cpu, acting.cameras):
            self.learner = learner = Learner(cpu, config.seed, acting.cameras)
        learner.model.load_state_dict(weights)
        self.config, self.loaded = config, load

    def run(
        self, wave: list[CollectJob], seed: int, round: int, source: str, load: int
    ) -> list[Episode]:
        """The episodes of one wave, acting with a policy seeded `seed`."""
        if self.learner is None or self.config is None or self.loaded != load:
            raise RuntimeError(f"collector holds the weights of load {self.loaded}, not {load}")
        policy = self.learner.policy(seed=seed)
        return run_wave(policy, wave, self.envs, self.config, round, source)


class CollectorPool:
    """`count` collector actors that live until `close`; see the module docstring."""

    def __init__(self, count: int, address: str | None = None) -> None:
        if count < 1:
            raise ValueError(f"a pool needs at least one collector, got {count}")
        self.count = count
        self._session = ExitStack()
        self._ray = self._session.enter_context(ray_session(address))
        cpus = self._ray.cluster_resources().get("CPU", 0)
        if count > cpus:  # an actor without a CPU would never start, and its waves never end
            self._session.close()
            raise CollectorError(
                f"{count} collectors need {count} of Ray's CPUs, one each; the cluster has "
                f"{cpus:g}: lower loop.collectors"
            )
        self._actor_class = self._ray.remote(num_cpus=1, max_restarts=0)(Collector)
        self.actors: list[Any] = [self._actor_class.remote() for _ in range(count)]
        """The actor handles, by slot; a replacement takes its dead predecessor's slot."""
        self.replaced = 0
        """Actors replaced since the pool was made."""
        self.in_flight: dict[Any, tuple[Any, int]] = {}
        """Each unfinished wave's object ref -> (actor, wave index)."""
        self.after_wave: Callable[[int], None] | None = None
        """Called with a wave's index when it comes back, before its episodes are yielded (a
        seam for tests that kill an actor mid-round)."""
        self._loads = 0

    def ready(self) -> list[int]:
        """Wait until every actor is up; their process ids."""
        pids: list[int] = self._ray.get([a.ready.remote() for a in self.actors])
        return pids

    def collect(
        self,
        learner: Learner,
        seed_for: Callable[[int], int],
        jobs: Sequence[CollectJob],
        config: RunConfig,
        round: int,
        source: str = "policy",
        progress: bool = False,
    ) -> Iterator[Episode]:
        """Run `jobs` on the actors, wave `w` acting with the policy seeded `seed_for(w)`, and
        yield their episodes in job order (see the module docstring)."""
        if not jobs:
            return
        ray = self._ray
        size = config.loop.envs
        grouped = {wave[0].index // size: wave for wave in waves(jobs, size)}
        self._loads += 1
        acting = Acting(learner.config, learner.cameras, torch.get_num_threads())
        load = (ray.put(acting_weights(learner)), config, acting, self._loads)
        for actor in self.actors:
            actor.load.remote(*load)  # runs before the waves: an actor keeps one caller's order
        queue = sorted(grouped)  # a heap: waves to hand out, a dead actor's back in their place
        order = list(queue)
        finished: dict[int, list[Episode]] = {}  # come back, not yet yielded (one still runs)
        cursor = deaths = 0

        def hand_out() -> None:  # fill each actor up to IN_FLIGHT waves, lowest waves first
            for depth in range(IN_FLIGHT):
                for actor in self.actors:
                    busy = sum(a is actor for a, _ in self.in_flight.values())
                    if queue and busy <= depth:
                        w = heapq.heappop(queue)
                        ref = actor.run.remote(grouped[w], seed_for(w), round, source, load[-1])
                        self.in_flight[ref] = (actor, w)

        bar = progress_bar(
            total=len(jobs), desc="collect", unit="ep", disable=not progress, leave=False
        )
        try:
            hand_out()
            while self.in_flight:
                (ref,), _ = ray.wait(list(self.in_flight), num_returns=1)
                actor, w = self.in_flight.pop(ref)
                try:
                    episodes: list[Episode] = ray.get(ref)
                except ray.exceptions.RayActorError as error:  # a wave's own error propagates
                    if any(a is actor for a in self.actors):  # its first wave to fail
                        deaths += 1
                        if deaths > REPLACEMENTS * self.count:
                            raise CollectorError(
                                f"collector actors died {deaths} times in round {round}; the "
                                f"last: {error}"
                            ) from error
                        self._replace(actor, load)
                    heapq.heappush(queue, w)
                    hand_out()
                    continue
                finished[w] = episodes
                if self.after_wave is not None:
                    self.after_wave(w)
                hand_out()
                while cursor < len(order) and order[cursor] in finished:
                    for episode in finished.pop(order[cursor]):
                        bar.update()
                        yield episode
                    cursor += 1
        finally:
            bar.close()
            # abandoned (an error, or the caller stopped reading): queued waves never start, a
            # running one ends and is dropped
            for ref in self.in_flight:
                with self._gone():
                    ray.cancel(ref)
            self.in_flight.clear()

    def _replace(self, dead: Any, load: tuple[Any, ...]) -> None:
        slot = next(i for i, a in enumerate(self.actors) if a is dead)
        with self._gone():
            self._ray.kill(dead)
        self.actors[slot] = self._actor_class.remote()
        self.actors[slot].load.remote(*load)
        self.replaced += 1

    def _gone(self) -> contextlib.AbstractContextManager[None]:
        """Ignore Ray's errors: what is being stopped may be gone already."""
        return contextlib.suppress(self._ray.exceptions.RayError)

    def close(self) -> None:
        """Stop the actors, and Ray if this pool started it."""
        for actor in self.actors:
            with self._gone():
                self._ray.kill(actor)
        self.actors = []
        self._session.close()

    def __enter__(self) -> CollectorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
