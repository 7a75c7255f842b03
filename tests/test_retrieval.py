"""Retrieval: paraphrases of every template and colour, no colour swaps, missing skills, caching."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from paraphrases import PARAPHRASES

from gameon_nb.sim.templates import TEMPLATES
from gameon_nb.skills.library import SkillLibrary
from gameon_nb.skills.retrieval import EXEMPLARS, MiniLMEmbedder, SkillRetriever, parse_colours
from gameon_nb.skills.skill import Skill, all_skills


class CountingEmbedder:
    """The real MiniLM embedder, counting the texts it is asked to encode."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner, self.encoded = inner, []  # type: list[str]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def retriever(minilm: MiniLMEmbedder) -> SkillRetriever:
    return SkillRetriever(SkillLibrary.initial().known(), embedder=minilm, cache_path=None)


def test_paraphrases_cover_every_template_and_colour() -> None:
    wanted = [Skill.from_text(s) for _, s in PARAPHRASES if s is not None]
    assert len(PARAPHRASES) >= 40
    assert {s.template for s in wanted} == {s.template for s in all_skills()}
    assert {c for s in wanted for c in s.colours} == {"red", "green", "blue"}


def test_the_paraphrases_are_held_out_from_the_exemplars() -> None:
    def plain(text: str) -> str:
        return " ".join(re.findall(r"[a-z]+", text.lower().replace("cube", "block")))

    exemplars = {
        plain(phrase.format(*colours))
        for name, phrases in EXEMPLARS.items()
        for colours in TEMPLATES[name].instances()
        for phrase in phrases
    }
    shared = [text for text, _ in PARAPHRASES if plain(text) in exemplars]
    assert not shared, f"these paraphrases are exemplars the retriever compares with: {shared}"


def test_paraphrases_map_to_the_right_skill_without_colour_swaps(
    retriever: SkillRetriever,
) -> None:
    answers = [(retriever.retrieve(text), want) for text, want in PARAPHRASES]
    right = sum(a.skill == want for a, want in answers)
    assert right / len(answers) >= 0.9, [(a.text, a.skill, w) for a, w in answers if a.skill != w]
    for answer, want in answers:
        if answer.skill is None or want is None:
            continue
        # a wrong template is a miss; wrong colours (or their order) would be a swap: never
        assert Skill.from_text(answer.skill).colours == Skill.from_text(want).colours, answer


def test_outside_the_vocabulary_is_a_missing_skill(retriever: SkillRetriever) -> None:
    juggle = retriever.retrieve("juggle the blocks")
    assert juggle.skill is None
    assert "threshold" in juggle.reason
    assert juggle.candidates  # the best guesses are still shown
    purple = retriever.retrieve("lift the purple block")
    assert (purple.skill, purple.reason) == (None, "no purple block in the scene")
    four = retriever.retrieve("put the red block next to the green block and the blue block")
    assert four.skill is None  # three colours: only a tower takes three, and that is not it


def test_a_skill_outside_the_library_is_a_request(minilm: MiniLMEmbedder) -> None:
    library = SkillLibrary.initial()
    base_only = SkillRetriever(library.available(), embedder=minilm, cache_path=None)
    answer = base_only.retrieve("put the green block on top of the red block")
    assert answer.skill is None
    assert answer.requested == "stack the green block on the red block"
    assert "not in the library" in answer.reason
    # never the nearest skill that *is* in the library: hold-above is not stacking
    assert base_only.retrieve("hold the green block above the red block").skill is not None


def test_colours_come_from_the_text_in_order() -> None:
    assert parse_colours("stack the Blue block on the red one") == (("blue", "red"), ())
    assert parse_colours("put the red block under the green block") == (("green", "red"), ())
    assert parse_colours("lift the purple block") == ((), ("purple",))


def test_embeddings_are_cached_in_memory_and_on_disk(
    minilm: MiniLMEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "embeddings.npz"
    counting = CountingEmbedder(minilm)
    retriever = SkillRetriever(["lift the red block"], embedder=counting, cache_path=path)
    first = retriever.retrieve("raise the red cube")
    count = len(counting.encoded)
    assert count > 0
    assert retriever.retrieve("raise the red cube") == first
    assert len(counting.encoded) == count  # memory
    again = CountingEmbedder(minilm)
    reloaded = SkillRetriever(["lift the red block"], embedder=again, cache_path=path)
    assert reloaded.retrieve("raise the red cube") == first
    assert again.encoded == []  # disk
    assert reloaded.retrieve("lift the red block").score == 1.0  # canonical: no model at all
    assert again.encoded == []


def test_retrieve_command_prints_json(tmp_path: Path) -> None:
    env = {**os.environ, "GAMEON_CACHE": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "gameon_nb.cli", "retrieve", "grab the green cube",
         "juggle the blocks", "stack the blue block on the red block", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    grab, juggle, stack = json.loads(out.stdout)
    assert set(grab) >= {"text", "skill", "score", "candidates"}
    assert grab["skill"] == "grasp the green block"
    assert juggle["skill"] is None
    assert stack == {
        "text": "stack the blue block on the red block",
        "skill": "stack the blue block on the red block",  # a candidate: still a known skill
        "score": 1.0,
        "candidates": [
            {"skill": "stack the blue block on the red block", "score": 1.0, "in_library": True}
        ],
    }
