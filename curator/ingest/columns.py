"""Which column is which field: aliases in their usual spellings, tiers for the prompt, --map.

Every author of public competition data named the columns differently; ``resolve_columns``
decides, and stops with the list of columns and the ``--map`` to use when it cannot tell.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import CuratorError

FIELDS = ("original_text", "rewrite_prompt", "rewritten_text", "prediction")
ROLES = ("samples", "prompts", "target")

# Column aliases, compared after lower-casing and turning spaces/dashes into underscores.
# The prompt has tiers: a column that explicitly says "ground truth" outranks a plain
# rewrite_prompt, which outranks generic names. When a truth column exists, a plain
# rewrite_prompt next to it is the *prediction* (that is how gemma_mix_with_predictions.csv is laid out).
PROMPT_TIERS: tuple[tuple[str, ...], ...] = (
    ("gt_rewrite_prompt", "rewrite_prompt_og", "true_prompt", "gt_prompt", "target_prompt", "truth"),
    ("rewrite_prompt",),
    ("target", "prompt", "prompts", "instruction", "rewrite_prompts", "rewrite_instruction"),
)
ALIASES: dict[str, tuple[str, ...]] = {
    "original_text": ("original_text", "original", "input_text", "source_text", "original_essay", "text"),
    "rewritten_text": ("rewritten_text", "rewritten", "rewrite", "rewritten_essay", "output_text",
                       "generated_text"),
    "prediction": ("predicted", "prediction", "predicted_prompt", "pred", "pred_prompt", "predictions"),
}


_HEADERISH = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .\-]{0,39}$")


def _looks_like_header(cell: str) -> bool:
    """A header is a short identifier-like label; a prompt is a sentence."""
    key = _key(cell)
    if key in {a for tier in PROMPT_TIERS for a in tier}:
        return True
    return bool(_HEADERISH.match(cell)) and len(cell.split()) <= 3 and not cell.endswith((".", "!", "?"))


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())



def parse_mapping(items: list[str] | tuple[str, ...] | None) -> dict[str, str]:
    """``["prompt=instruction", ...]`` → ``{"rewrite_prompt": "instruction"}``."""
    mapping = {}
    short = {"prompt": "rewrite_prompt", "original": "original_text", "rewritten": "rewritten_text",
             "predicted": "prediction", "pred": "prediction"}
    for item in items or ():
        if "=" not in item:
            raise CuratorError(f"--map {item!r}: expected FIELD=COLUMN, e.g. --map prompt=instruction")
        fld, col = (s.strip() for s in item.split("=", 1))
        fld = short.get(fld, fld)
        if fld not in FIELDS:
            raise CuratorError(f"--map {item!r}: unknown field {fld!r}; fields are {', '.join(FIELDS)}")
        mapping[fld] = col
    return mapping


def resolve_columns(columns: list[str], mapping: dict[str, str], path: Path | str) -> dict[str, str]:
    """Decide which column holds each field. Explicit --map wins; ambiguity is an error."""
    by_key: dict[str, list[str]] = {}
    for col in columns:
        by_key.setdefault(_key(col), []).append(col)
    for fld, col in mapping.items():
        if col not in columns:
            raise CuratorError(f"{path}: --map {fld}={col}: no column {col!r}; columns are: "
                               + ", ".join(columns))
    found: dict[str, str] = dict(mapping)
    taken = set(mapping.values())

    def candidates(aliases: tuple[str, ...]) -> list[str]:
        return [c for a in aliases for c in by_key.get(a, []) if c not in taken]

    if "rewrite_prompt" not in found:
        for tier_no, tier in enumerate(PROMPT_TIERS):
            cands = candidates(tier)
            if len(cands) > 1:
                _ambiguous(path, columns, "rewrite_prompt", cands)
            if cands:
                found["rewrite_prompt"] = cands[0]
                if tier_no == 0 and "prediction" not in found:
                    plain = candidates(PROMPT_TIERS[1])
                    if plain:
                        found["prediction"] = plain[0]
                elif tier_no == 1:
                    generic = [c for c in candidates(PROMPT_TIERS[2]) if _key(c) != "target"]
                    if generic:
                        _ambiguous(path, columns, "rewrite_prompt", [cands[0], *generic])
                break
        taken.update(found.values())
    for fld in ("original_text", "rewritten_text", "prediction"):
        if fld in found:
            continue
        cands = candidates(ALIASES[fld])
        if len(cands) > 1:
            _ambiguous(path, columns, fld, cands)
        if cands:
            found[fld] = cands[0]
            taken.add(cands[0])
    return found


def _ambiguous(path: Path | str, columns: list[str], fld: str, cands: list[str]) -> None:
    raise CuratorError(
        f"{path}: cannot tell which column is {fld} (candidates: {', '.join(cands)}); columns are: "
        f"{', '.join(columns)}; say which with --map {fld}={cands[0]}"
    )


def _unknown_layout(path: Path | str, columns: list[str], need: str) -> CuratorError:
    return CuratorError(
        f"{path}: unknown layout, no {need} column among: {', '.join(columns)}; "
        f"map it with e.g. --map {need}={columns[0]}"
    )


