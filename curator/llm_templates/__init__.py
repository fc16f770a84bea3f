"""Editable LLM instruction templates ($name placeholders); a corpus copy overrides them."""
