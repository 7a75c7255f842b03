"""`SkillLibrary`: the skills the robot has, the candidates it may learn, and their records.

    >>> library = SkillLibrary.initial()               # base skills in, composites as candidates
    >>> stack = "stack the red block on the blue block"
    >>> library.record_success(stack, round=3, rate=0.8, episodes=20)
    >>> library.promote(stack, round=3)
    >>> library.save(run.library_path); SkillLibrary.load(run.library_path)   # run: a RunDir

One owner for this state: the loop changes it only through these methods, and every save is
atomic. `available()` is what decompositions may use; `known()` adds the candidates.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gameon_nb.atomic import atomic_write_text
from gameon_nb.records import JsonObject
from gameon_nb.skills.skill import Skill, UnknownSkillError, all_skills

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LibraryCorruptError", "SkillLibrary", "SkillRecord"]

Status = Literal["base", "candidate", "learned"]
FORMAT = 1


class LibraryCorruptError(ValueError):
    """A library file that cannot be read back; the message names the file and the fault."""


@dataclass
class SkillRecord:
    """What the library knows of one skill."""

    text: str
    status: Status
    round_added: int | None = None
    """Round the skill joined the library (0 for base skills; None while a candidate)."""
    success: list[dict[str, float]] = field(default_factory=list)
    """Measured success per evaluation: {"round", "rate", "episodes"}."""
    reward_steps: int = 0
    """Stored steps on which this skill's reward is 1."""

    @property
    def latest_success(self) -> float | None:
        return self.success[-1]["rate"] if self.success else None


class SkillLibrary:
    """Skill records keyed by canonical text; see the module docstring."""

    def __init__(self, records: list[SkillRecord]) -> None:
        self.records = {r.text: r for r in records}

    @classmethod
    def initial(cls) -> SkillLibrary:
        """Base skills in the library from round 0; stack, next-to and tower as candidates."""
        return cls(
            [
                SkillRecord(s.text, "base", 0)
                if s.kind == "base"
                else SkillRecord(s.text, "candidate")
                for s in all_skills()
            ]
        )

    def __getitem__(self, text: str) -> SkillRecord:
        try:
            return self.records[text]
        except KeyError:
            raise UnknownSkillError(f"{text!r} is not in the library") from None

    def __contains__(self, text: object) -> bool:
        return text in self.records

    def __len__(self) -> int:
        return len(self.records)

    def known(self) -> list[str]:
        """Every skill text: base, learned and candidate."""
        return list(self.records)

    def available(self) -> list[str]:
        """Skills decompositions may use: base and learned."""
        return [t for t, r in self.records.items() if r.status != "candidate"]

    def candidates(self) -> list[str]:
        return [t for t, r in self.records.items() if r.status == "candidate"]

    def skill(self, text: str) -> Skill:
        return Skill.from_text(self[text].text)

    def record_success(self, text: str, round: int, rate: float, episodes: int) -> None:
        """Record an evaluation of `text` in `round`, replacing one of the same round (a stage
        redone after a crash evaluates again)."""
        if not 0.0 <= rate <= 1.0 or episodes < 1:
            raise ValueError(f"need 0 <= rate <= 1 and episodes >= 1, got {rate}, {episodes}")
        curve = [p for p in self[text].success if p["round"] != round]
        self[text].success = [*curve, {"round": round, "rate": rate, "episodes": episodes}]

    def promote(self, text: str, round: int) -> None:
        """A candidate joins the library as learned in `round`."""
        record = self[text]
        if record.status != "candidate":
            raise ValueError(f"{text!r} is {record.status}, not a candidate")
        record.status, record.round_added = "learned", round

    def to_json(self) -> JsonObject:
        return {"format": FORMAT, "skills": [asdict(r) for r in self.records.values()]}

    def save(self, path: Path) -> None:
        """Write the library as JSON, atomically."""
        atomic_write_text(Path(path), json.dumps(self.to_json(), indent=1))

    @classmethod
    def load(cls, path: Path) -> SkillLibrary:
        """Read a library written by `save`; a damaged file raises LibraryCorruptError."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            records = [SkillRecord(**r) for r in data["skills"]]
            for r in records:
                Skill.from_text(r.text)
                if r.status not in ("base", "candidate", "learned"):
                    raise ValueError(f"status {r.status!r} of {r.text!r}")
        except (ValueError, KeyError, TypeError, AttributeError, UnknownSkillError) as error:
            raise LibraryCorruptError(
                f"{path} is not a readable skill library ({error}); restore it from a copy or "
                "delete it to start from the initial library"
            ) from error
        return cls(records)

    def to_frame(self) -> pd.DataFrame:
        """One row per skill: text, status, round added, latest success, evaluations, data."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "skill": r.text,
                    "status": r.status,
                    "round_added": r.round_added,
                    "success": r.latest_success,
                    "evaluations": len(r.success),
                    "reward_steps": r.reward_steps,
                }
                for r in self.records.values()
            ]
        )
