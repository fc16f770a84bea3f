"""``curator sources list`` and ``curator sources check``: what each declared source is, what
the store holds from it, and what one page of it would yield (storing nothing)."""

from __future__ import annotations

import os

from ..context import Context
from ..errors import CuratorError
from .run import sources_dir
from .sources import load_sources


def list_sources(ctx: Context, directory: str | os.PathLike | None = None) -> list[dict]:
    """Every source with its kind, where it points, and its pages/errors/prompts in the store."""
    rows = []
    for src in load_sources(sources_dir(ctx, directory)).values():
        pages = ctx.store.query(
            "SELECT COUNT(*) AS n, SUM(prompts) AS p, SUM(error IS NOT NULL) AS e, MAX(fetched_at) AS last"
            " FROM pages WHERE source = ?", (src.name,))[0]
        stored = ctx.store.scalar("SELECT COUNT(DISTINCT item_id) FROM provenance WHERE item_kind='prompt'"
                                  " AND dataset = ?", (src.name,))
        rows.append({"name": src.name, "kind": src.kind, "where": src.location, "description": src.description,
                     "file": str(src.path), "pages": pages["n"], "errors": pages["e"] or 0,
                     "prompts": stored or 0, "last_fetched": pages["last"]})
    return rows


def check_source_named(ctx: Context, name: str, *, directory: str | os.PathLike | None = None,
                       url: str | None = None) -> dict:
    """Fetch one page of source ``name`` (politely, like scrape) and return the prompts it would
    yield, the links it would follow and what the heuristic dropped. Stores nothing."""
    from ..net import run_sync
    from .check import check_source
    from .site import settings_for

    found = load_sources(sources_dir(ctx, directory))
    if name not in found:
        raise CuratorError(f"no source named {name!r}; known: {', '.join(sorted(found)) or 'none'}")
    return run_sync(lambda: check_source(found[name], settings_for(ctx), url=url))
