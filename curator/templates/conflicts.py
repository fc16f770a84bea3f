"""The conflict table: tag pairs that must never meet in one combined prompt.

Contradictory changes (shorten vs expand, formal vs informal, two output forms) would teach a
model prompts no one writes. Parts carry tags, filled values can imply more tags
(``[conflicts.values]``), and a combination is kept only when no two parts clash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import CuratorError
from .parse import clean_values, slot_names



class Part(Protocol):
    """What the conflict rules read of a combinable part (``library.Part`` has it); a protocol so
    this module does not import the library that imports it."""

    tags: frozenset[str]
    first: tuple
    then: tuple


@dataclass
class Conflicts:
    """Tag pairs that must never meet in one prompt, and the tags a filled value implies.

    A pair of one tag (``["form", "form"]``) means two different parts carrying it conflict.
    """

    pairs: set[frozenset[str]] = field(default_factory=set)
    value_tags: dict[str, set[str]] = field(default_factory=dict)  # casefolded value -> tags

    def tags_of(self, part: "Part", values: dict[str, str]) -> set[str]:
        tags = set(part.tags)
        for name in slot_names(part.first + part.then):
            if name in values:
                tags |= self.value_tags.get(values[name].casefold(), set())
        return tags

    def clash(self, a: set[str], b: set[str]) -> tuple[str, str] | None:
        for x in a:
            for y in b:
                if frozenset((x, y)) in self.pairs:
                    return (x, y)
        return None

    def load(self, path: Path, body: dict[str, Any], lines: dict[tuple[str, str], int]) -> None:
        """Add a ``[conflicts]`` table (``pairs`` and ``[conflicts.values]``) read from ``path``."""
        where = f"{path}:{lines.get(('conflicts', 'pairs'), '?')}"
        for pair in body.get("pairs", []):
            if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(t, str) for t in pair):
                raise CuratorError(f"{where}: conflicts.pairs holds [\"tag\", \"tag\"] pairs, got {pair!r}")
            self.pairs.add(frozenset(pair))
        for tag, values in body.get("values", {}).items():
            for v in clean_values(values, f"{path}: [conflicts.values] {tag}"):
                self.value_tags.setdefault(v.casefold(), set()).add(tag)
