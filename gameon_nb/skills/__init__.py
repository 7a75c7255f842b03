"""Skills: canonical instructions over colours, the persisted library, and free-text retrieval.

>>> from gameon_nb.skills import Skill, SkillLibrary, SkillRetriever
>>> library = SkillLibrary.initial()
>>> SkillRetriever(library.known()).retrieve("pick up the red cube").skill
'lift the red block'
"""

from gameon_nb.skills.library import LibraryCorruptError, SkillLibrary, SkillRecord
from gameon_nb.skills.retrieval import Retrieval, SkillRetriever
from gameon_nb.skills.skill import Skill, UnknownSkillError, all_skills

__all__ = [
    "LibraryCorruptError",
    "Retrieval",
    "Skill",
    "SkillLibrary",
    "SkillRecord",
    "SkillRetriever",
    "UnknownSkillError",
    "all_skills",
]
