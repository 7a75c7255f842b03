"""The network: one model for every skill, conditioned on the skill's text (after PAC).

    >>> model = ActorCritic(LearnerConfig(), proprio_dim=10)
    >>> features = model.features(obs, tokens)          # state (+ pixels) and text -> trunk output
    >>> logits = model.policy(features)                 # (B, 5, bins) factorised categorical
    >>> q_logits = model.critic(features, actions)      # (B, atoms): the action enters late

Encoders: the state (proprio and block poses, with gripper-relative positions and each cube's
yaw modulo 90 degrees added, and each block's offsets to the others) by an MLP or as one token per
block; skill text by word embeddings with positions, so "red on blue" and "blue on red" differ;
pixels by a small conv stem into tokens. Trunk: an MLP (the CPU default) or a Perceiver (learned
latents cross-attend the tokens, then self-attention blocks).
"""

from __future__ import annotations

import itertools
import re
from functools import cache

import torch
from torch import Tensor, nn

from gameon_nb.config import LearnerConfig
from gameon_nb.sim.env import ACTION_FIELDS
from gameon_nb.sim.scene import BLOCK_SIZE, COLOURS
from gameon_nb.sim.templates import TEMPLATES

__all__ = ["ActorCritic", "Observation", "state_features", "tokenize", "vocabulary"]

ACTION_DIM = len(ACTION_FIELDS)
BLOCKS = len(COLOURS)
BLOCK_FEATURES = 7 + 3 + 2 + 2 + 2
"""Per block: pose, position relative to the gripper (world frame, then x and y in the gripper's
frame), cos/sin of 4 * yaw, and cos/sin of 4 * (yaw - gripper yaw)."""
ACTION_CODE = 64

Observation = dict[str, Tensor]
"""'proprio' (B, P), 'objects' (B, 3, 7) and, with pixels, one (B, H, W, 3) uint8 per camera."""


@cache
def vocabulary() -> tuple[str, ...]:
    """Every word of every template and colour, after '<pad>' and '<unk>'."""
    words = {w for t in TEMPLATES.values() for w in re.findall(r"[a-z]+", t.pattern)}
    return ("<pad>", "<unk>", *sorted(words | set(COLOURS)))


def tokenize(texts: list[str], max_words: int) -> Tensor:
    """(len(texts), max_words) word ids, padded; unknown words map to '<unk>'."""
    index = {w: i for i, w in enumerate(vocabulary())}
    out = torch.zeros(len(texts), max_words, dtype=torch.long)
    for row, text in enumerate(texts):
        words = re.findall(r"[a-z]+", text.lower())
        if len(words) > max_words:
            raise ValueError(
                f"{text!r} has {len(words)} words; LearnerConfig.max_words is {max_words}"
            )
        out[row, : len(words)] = torch.tensor([index.get(w, 1) for w in words], dtype=torch.long)
    return out


def state_features(proprio: Tensor, objects: Tensor) -> tuple[Tensor, Tensor]:
    """(proprio (B, P), per-block features (B, 3, BLOCK_FEATURES)); see BLOCK_FEATURES.

    A cube looks the same every quarter turn, so its yaw enters as 4 * yaw; squaring the fingers
    to it needs the yaw relative to the gripper's, which an MLP cannot easily derive itself.
    """
    relative = objects[..., :3] - proprio[..., None, :3]
    cos_g, sin_g = proprio[..., None, 3], proprio[..., None, 4]
    along = torch.stack(
        [cos_g * relative[..., 0] + sin_g * relative[..., 1],
         -sin_g * relative[..., 0] + cos_g * relative[..., 1]],
        dim=-1,
    )  # fmt: skip
    w, z = objects[..., 3], objects[..., 6]
    yaw = 2 * torch.atan2(z, w)  # cubes spawn and mostly stay upright: yaw about the vertical
    twist = 4 * (yaw - torch.atan2(sin_g, cos_g))
    spin = torch.stack([torch.cos(4 * yaw), torch.sin(4 * yaw)], dim=-1)
    square = torch.stack([torch.cos(twist), torch.sin(twist)], dim=-1)
    return proprio, torch.cat([objects, relative, along, spin, square], dim=-1)


def mlp(sizes: list[int], norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers += [nn.LayerNorm(b), nn.ReLU()] if norm else [nn.ReLU()]
    return nn.Sequential(*layers)


class Normalizer(nn.Module):
    """Fixed per-feature mean and scale, set once from data and saved with the model."""

    mean: Tensor
    scale: Tensor

    def __init__(self, size: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("scale", torch.ones(size))

    def fit(self, x: Tensor) -> None:
        flat = x.reshape(-1, x.shape[-1]).float()
        self.mean.copy_(flat.mean(0))
        self.scale.copy_(flat.std(0).clamp_min(1e-2))  # near-constant inputs stay near 0

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.scale


class FiLMTrunk(nn.Module):
    """An MLP whose every hidden layer the skill text scales and shifts (FiLM, Perez et al. 2018).

    Concatenating the text to the input alone leaves an MLP to learn "which block" additively;
    modulating every layer lets the instruction select features multiplicatively.
    """

    def __init__(self, inputs: int, hidden: int, layers: int, condition: int) -> None:
        super().__init__()
        sizes = [inputs] + [hidden] * layers
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.film = nn.Linear(condition, 2 * hidden * layers)
        nn.init.zeros_(self.film.weight)  # start as a plain MLP
        nn.init.zeros_(self.film.bias)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        scales_shifts = self.film(condition).chunk(2 * len(self.linears), dim=-1)
        for i, (linear, norm) in enumerate(zip(self.linears, self.norms, strict=True)):
            scale, shift = scales_shifts[2 * i], scales_shifts[2 * i + 1]
            x = torch.relu(norm(linear(x)) * (1 + scale) + shift)
        return x


class ConvStem(nn.Module):
    """uint8 (B, H, W, 3) frames -> (B, tokens, dim): stride-2 convs, then one token per cell."""

    def __init__(self, channels: tuple[int, ...], dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 3
        for c in channels:
            layers += [nn.Conv2d(previous, c, 3, stride=2, padding=1), nn.ReLU()]
            previous = c
        self.convs = nn.Sequential(*layers)
        self.project = nn.Linear(previous, dim)

    def forward(self, frames: Tensor) -> Tensor:
        x = frames.permute(0, 3, 1, 2).float() / 255.0 - 0.5
        x = self.convs(x)  # (B, C, h, w)
        return self.project(x.flatten(2).transpose(1, 2))  # type: ignore[no-any-return]


class ActorCritic(nn.Module):
    """Encoders, trunk, policy head and critic head; see the module docstring."""

    def __init__(
        self, config: LearnerConfig, proprio_dim: int, cameras: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        cfg = self.config = config
        self.cameras = cameras if cfg.pixels else ()
        self.slot_features = BLOCK_FEATURES + BLOCKS + (3 * (BLOCKS - 1) if cfg.relations else 0)
        """Per slot: the block's features, its colour one-hot, and its offsets to the others."""
        self.proprio_norm = Normalizer(proprio_dim)
        self.block_norm = Normalizer(BLOCK_FEATURES)
        self.words = nn.Embedding(len(vocabulary()), cfg.text_dim)
        self.word_positions = nn.Parameter(torch.randn(cfg.max_words, cfg.text_dim) * 0.1)
        self.stems = nn.ModuleDict(
            {c: ConvStem(cfg.conv_channels, cfg.latent_dim) for c in self.cameras}
        )
        if cfg.trunk == "mlp":
            text_out = cfg.hidden // 2
            self.text = mlp([cfg.max_words * cfg.text_dim, text_out])
            self.pixel_pool = nn.AdaptiveAvgPool1d(1)
            inputs = proprio_dim + BLOCKS * self.slot_features + text_out
            inputs += cfg.latent_dim * len(self.cameras)
            self.trunk = FiLMTrunk(inputs, cfg.hidden, cfg.layers, text_out)
        else:
            d = cfg.latent_dim
            self.proprio_token = nn.Linear(proprio_dim, d)
            self.block_token = nn.Linear(self.slot_features, d)
            self.block_ids = nn.Parameter(torch.randn(BLOCKS, d) * 0.1)
            self.text_token = nn.Linear(cfg.text_dim, d)
            self.latents = nn.Parameter(torch.randn(cfg.latents, d) * 0.1)
            self.cross = nn.MultiheadAttention(d, cfg.heads, batch_first=True)
            self.cross_norm = nn.LayerNorm(d)
            layer = nn.TransformerEncoderLayer(
                d, cfg.heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True
            )
            self.blocks = nn.TransformerEncoder(layer, cfg.blocks, enable_nested_tensor=False)
            self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, cfg.hidden), nn.ReLU())
        self.policy_head = nn.Linear(cfg.hidden, ACTION_DIM * cfg.bins)
        # the action enters late, added to the state's projection: Q of M sampled actions costs
        # M small action encodings and one (hidden x atoms) layer each, not M trunk passes
        self.critic_state = nn.Linear(cfg.hidden, cfg.hidden)
        self.critic_action = mlp([ACTION_DIM, ACTION_CODE, cfg.hidden], norm=False)
        self.critic_head = nn.Sequential(
            nn.LayerNorm(cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.atoms)
        )

    def fit_normalizers(self, proprio: Tensor, objects: Tensor) -> None:
        """Set the input normalisation from a sample of the data (once, before training)."""
        p, blocks = state_features(proprio, objects)
        self.proprio_norm.fit(p)
        self.block_norm.fit(blocks)

    def slot_order(self, tokens: Tensor) -> Tensor:
        """(B, 3) the block in each slot: the blocks the text names, in its order, then the rest
        in colour order (colour order throughout without `bind_arguments`)."""
        if not self.config.bind_arguments:
            return torch.arange(BLOCKS, device=tokens.device).expand(len(tokens), -1)
        colours = torch.tensor([vocabulary().index(c) for c in COLOURS], device=tokens.device)
        words = tokens.shape[1]
        position = torch.arange(words, device=tokens.device)[None, :, None]
        absent = words + torch.arange(BLOCKS, device=tokens.device)  # unnamed: colour order
        first = torch.where(tokens[:, :, None] == colours, position, absent).amin(dim=1)
        return first.argsort(dim=1)

    def bind(self, blocks: Tensor, tokens: Tensor) -> Tensor:
        """Blocks reordered as the skill text names them (then the others), colour one-hot added.

        "stack the green block on the red block" puts green in the first slot and red in the
        second, so every colour of a template shares what is learned about its slots.
        """
        order = self.slot_order(tokens)
        identity = torch.eye(BLOCKS, device=blocks.device, dtype=blocks.dtype)[order]
        slots = blocks.gather(1, order[..., None].expand(-1, -1, blocks.shape[-1]))
        return torch.cat([slots, identity], dim=-1)

    @staticmethod
    def relations(positions: Tensor, order: Tensor) -> Tensor:
        """(B, 3, 6) each slot's offsets to the other two slots' blocks, in block sizes.

        Putting one block on or beside another is a matter of centimetres between the two; an
        MLP reads that far more precisely from the offset itself than from the difference of
        two normalised absolute positions.
        """
        slots = positions.gather(1, order[..., None].expand(-1, -1, 3))  # (B, 3, 3)
        offsets = slots[:, None, :, :] - slots[:, :, None, :]  # (B, i, j, 3): j seen from i
        others = [[j for j in range(BLOCKS) if j != i] for i in range(BLOCKS)]
        index = torch.tensor(others, device=positions.device)  # (3, 2)
        rows = torch.arange(BLOCKS, device=positions.device)[:, None]
        return offsets[:, rows, index].flatten(2) / BLOCK_SIZE

    def features(self, obs: Observation, tokens: Tensor) -> Tensor:
        """(B, hidden) trunk output for observations and skill-text tokens (B, max_words)."""
        proprio, blocks = state_features(obs["proprio"], obs["objects"])
        proprio, blocks = self.proprio_norm(proprio), self.block_norm(blocks)
        blocks = self.bind(blocks, tokens)
        if self.config.relations:
            order = self.slot_order(tokens)
            blocks = torch.cat([blocks, self.relations(obs["objects"][..., :3], order)], dim=-1)
        words = self.words(tokens) + self.word_positions  # (B, L, text_dim)
        pixels = [self.stems[c](obs[c]) for c in self.cameras]  # (B, tokens, latent_dim) each
        if self.config.trunk == "mlp":
            pooled = [self.pixel_pool(p.transpose(1, 2)).squeeze(-1) for p in pixels]
            text = self.text(words.flatten(1))
            x = torch.cat([proprio, blocks.flatten(1), text, *pooled], dim=-1)
            return self.trunk(x, text)  # type: ignore[no-any-return]
        tokens_in = [
            self.proprio_token(proprio).unsqueeze(1),
            self.block_token(blocks) + self.block_ids,
            self.text_token(words),
            *pixels,
        ]
        x = torch.cat(tokens_in, dim=1)
        latents = self.latents.expand(x.shape[0], -1, -1)
        attended, _ = self.cross(latents, x, x, need_weights=False)
        latents = self.blocks(self.cross_norm(latents + attended))
        return self.out(latents.mean(1))  # type: ignore[no-any-return]

    def policy(self, features: Tensor) -> Tensor:
        """(B, 5, bins) logits of the factorised categorical policy."""
        return self.policy_head(features).view(-1, ACTION_DIM, self.config.bins)  # type: ignore[no-any-return]

    def critic(self, features: Tensor, actions: Tensor) -> Tensor:
        """(..., atoms) logits of Q(s, a, skill); `actions` (B, 5) or (B, M, 5) for M samples."""
        state = self.critic_state(features)
        if actions.dim() == 3:
            state = state.unsqueeze(1)
        return self.critic_head(state + self.critic_action(actions))  # type: ignore[no-any-return]
