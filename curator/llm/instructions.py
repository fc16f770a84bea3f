"""The instructions sent to a model are files, so users can edit them without touching code.

``curator/llm_templates/NAME.txt`` is the packaged copy; ``<corpus>/llm_templates/NAME.txt`` wins
when present. Placeholders are ``$name`` (``string.Template``), so JSON braces need no escaping.
"""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CuratorError

if TYPE_CHECKING:
    from ..context import Context


def load_template(ctx: "Context | None", name: str) -> string.Template:
    """The user's copy in <corpus>/llm_templates/NAME.txt, else the packaged one."""
    if ctx is not None:
        user = Path(ctx.root) / "llm_templates" / f"{name}.txt"
        if user.exists():
            return string.Template(user.read_text(encoding="utf-8"))
    return string.Template(resources.files("curator.llm_templates").joinpath(f"{name}.txt").read_text("utf-8"))


def render(template: string.Template, **values) -> str:
    try:
        return template.substitute(**values)
    except (KeyError, ValueError) as exc:
        raise CuratorError(f"LLM template: unknown or malformed placeholder {exc}; "
                           f"available: {', '.join('$' + k for k in values)}") from exc
