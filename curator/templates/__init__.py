"""Prompt templates and multi-instruction combinations from a change taxonomy.

The best public training data for prompt recovery came from short hand-written templates whose
placeholders were filled from word lists ("Rewrite this {text} in the style of {author}.") and
from prompts that ask for two or three changes at once ("Rewrite this memo in a humorous tone and
shorten it to under 50 words."). This package makes both reproducible, one module per job:

* :mod:`.parse`: template syntax (``{name}`` placeholders, ``{{`` / ``}}`` literal braces),
  rendering with "a"/"an" agreement, scraped prompts as templates;
* :mod:`.library`: reading template, part and vocabulary files (the seed set shipped in the
  package, then the corpus's own files) and validating them before anything is written;
* :mod:`.expand`: templates × vocabularies → prompts (a seeded sample of each cross product);
* :mod:`.combine`: k changes from k categories joined into one prompt;
* :mod:`.conflicts`: the declared table of changes that never meet in one prompt.

Everything is seeded: the same seed and files give the same prompts. See ``docs/templates.md``.
"""

from __future__ import annotations

from .combine import JOINERS, MAX_TRIES, Combination, combine, draw_combinations, store_combinations
from .conflicts import Conflicts
from .expand import Expansion, cross_size, expand, expand_template, expected_count, store_expansions
from .library import (Library, Part, Template, Vocabulary, _sha256, load_library, load_template_files,  # noqa: F401
                      load_vocabularies, seed_dir, validate)
from .parse import NAME, Segment, Slot, TemplateSyntaxError, parse, render, scraped_template, slot_names

__all__ = [
    "Slot", "Segment", "Template", "Vocabulary", "Part", "Conflicts", "Library", "Expansion", "Combination",
    "TemplateSyntaxError", "parse", "render", "slot_names", "load_library", "load_vocabularies",
    "load_template_files", "validate", "seed_dir", "cross_size", "expected_count", "expand_template", "expand",
    "draw_combinations", "combine", "scraped_template", "store_expansions", "store_combinations", "JOINERS",
    "MAX_TRIES", "NAME",
]
