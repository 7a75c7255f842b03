"""Prompt templates: text files in `prompts/` beside this module, with `$named` fields.

    >>> render_prompt("judge", skill="lift the red block", count=2, options='"yes" or "no"')
    >>> prompt_names()
    ['analyse', 'decompose', 'judge', 'propose', 'repair']

`string.Template` rather than `str.format`, so a prompt may show JSON braces as they are; a field
the call does not fill is an error, never a literal `$name` sent to a model.
"""

from __future__ import annotations

import functools
import string
from importlib import resources

__all__ = ["prompt_names", "prompt_template", "render_prompt"]


@functools.cache
def prompt_template(name: str) -> string.Template:
    """The template `prompts/<name>.txt`; an unknown name lists the known ones."""
    path = resources.files("gameon_nb.experimenter") / "prompts" / f"{name}.txt"
    if not path.is_file():
        raise KeyError(f"no prompt {name!r}; known: {prompt_names()}")
    return string.Template(path.read_text(encoding="utf-8"))


def prompt_names() -> list[str]:
    folder = resources.files("gameon_nb.experimenter") / "prompts"
    return sorted(p.name.removesuffix(".txt") for p in folder.iterdir() if p.name.endswith(".txt"))


def render_prompt(name: str, **fields: object) -> str:
    """The prompt `name` with every field filled (missing ones raise KeyError)."""
    return prompt_template(name).substitute({k: str(v) for k, v in fields.items()}).strip()
