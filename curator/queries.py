"""The queries every stage shares, written once: canonical prompts, training vs target items,
and the DataFrame readers behind ``Corpus.prompts()`` / ``Corpus.samples()``.

"Canonical" = not marked a duplicate by dedup. "Target" = anything ingested with role target
(a prompt can be both a training prompt and a target prompt when the same text arrives from two
files; provenance roles tell them apart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from .context import Context

if TYPE_CHECKING:
    import pandas as pd

STATUSES = ("candidate", "train", "rejected", "target")

CANONICAL_PROMPTS_SQL = "SELECT id, text FROM prompts WHERE duplicate_of IS NULL ORDER BY id"
TARGET_PROMPT_IDS_SQL = ("SELECT DISTINCT item_id FROM provenance WHERE +item_kind = 'prompt' AND role = 'target' "
                         "UNION SELECT prompt_id FROM samples WHERE status = 'target' AND prompt_id IS NOT NULL")


def canonical_prompts(ctx: Context, columns: str = "id, text", plain: bool = False) -> list:
    """Prompts not marked duplicates, ordered by id (stable across runs); ``plain``: as tuples
    (:meth:`Store.rows`, for bulk reads), else ``sqlite3.Row``."""
    sql = f"SELECT {columns} FROM prompts WHERE duplicate_of IS NULL ORDER BY id"
    return ctx.store.rows(sql) if plain else ctx.store.query(sql)


def prompt_texts(ctx: Context) -> tuple[dict[str, str], frozenset[str]]:
    """(id → text of every prompt, ids of the canonical ones), read once per state of the
    database: coverage and its report both want all of them (250k rows, 0.5 s a read, 0.8 s
    through ``sqlite3.Row``). Shared between callers: read-only."""
    def read() -> tuple[dict[str, str], frozenset[str]]:
        rows = ctx.store.rows("SELECT id, text, duplicate_of FROM prompts")
        return {r[0]: r[1] for r in rows}, frozenset(r[0] for r in rows if r[2] is None)

    return ctx.store.cached(("prompt_texts",), read)


def prompt_roles(ctx: Context) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(ids of prompts seen with a non-target role, dataset → ids of prompts seen as target
    prompts there), from one scan of the prompt provenance, read once per state of the database.

    Coverage and the card's training side both start from it: the card used to ask SQLite for
    "canonical prompts with a non-target provenance record" with a correlated EXISTS, 0.75 s at
    250k prompts against 0.23 s for the scan, and kept a second copy of every text."""
    def read() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
        training: set[str] = set()
        targets: dict[str, set[str]] = {}
        for pid, dataset, role in ctx.store.rows(  # plain tuples: a row per provenance record
                "SELECT item_id, dataset, role FROM provenance WHERE +item_kind = 'prompt'"):
            if role == "target":
                targets.setdefault(dataset, set()).add(pid)
            else:
                training.add(pid)
        return frozenset(training), {d: frozenset(ids) for d, ids in targets.items()}

    return ctx.store.cached(("prompt_roles",), read)


def rewrite_prompts(ctx: Context, columns: str = "id, text") -> list:
    """Canonical prompts that may be given to a model as a rewrite prompt: not templates (a prompt
    with an unfilled slot such as {topic} or [recipient] is expanded by `curator expand`, never
    sent as is). ``columns`` must include ``text``."""
    from .placeholders import find_placeholders

    return [r for r in canonical_prompts(ctx, columns) if not find_placeholders(r["text"])]


def target_prompt_ids(ctx: Context) -> set[str]:
    """Ids of prompts that belong to a target set (a target prompt list or target samples)."""
    return {r[0] for r in ctx.store.rows(TARGET_PROMPT_IDS_SQL)}


def prompts_frame(ctx: Context, origin: str | None = None, dataset: str | None = None,
                  canonical: bool | None = None, contains: str | None = None,
                  limit: int | None = None) -> pd.DataFrame:
    """Prompts as a DataFrame. ``canonical=True`` keeps only those not marked duplicates."""
    import pandas as pd
    sql, params = _prompts_sql(origin, dataset, canonical, contains, limit)
    return pd.read_sql_query(sql, ctx.store.conn, params=params)


def iter_prompts_frames(ctx: Context, origin: str | None = None, dataset: str | None = None,
                        canonical: bool | None = None, contains: str | None = None,
                        limit: int | None = None, chunk: int = 2000) -> Iterator[pd.DataFrame]:
    """The rows of :func:`prompts_frame` as DataFrames of ``chunk`` rows, read as they are
    printed: a listing of 1M prompts shows its first row before the last is read (the whole
    frame first took 6.5 s there)."""
    import pandas as pd
    sql, params = _prompts_sql(origin, dataset, canonical, contains, limit)
    yield from pd.read_sql_query(sql, ctx.store.conn, params=params, chunksize=chunk)


def _prompts_sql(origin, dataset, canonical, contains, limit) -> tuple[str, list]:
    where, params = [], []
    if origin:
        where.append("p.origin = ?")
        params.append(origin)
    if dataset:
        where.append("p.id IN (SELECT item_id FROM provenance WHERE item_kind='prompt' AND dataset = ?)")
        params.append(dataset)
    if canonical is True:
        where.append("p.duplicate_of IS NULL")
    elif canonical is False:
        where.append("p.duplicate_of IS NOT NULL")
    if contains:
        where.append("p.text LIKE ?")
        params.append(f"%{contains}%")
    sql = "SELECT p.* FROM prompts p"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY p.created_at, p.id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def samples_frame(ctx: Context, status: str | None = None, dataset: str | None = None,
                  origin: str | None = None, contains: str | None = None,
                  limit: int | None = None) -> pd.DataFrame:
    """Samples as a DataFrame, in the order they were added."""
    import pandas as pd
    where, params = [], []
    for col, value in (("status", status), ("dataset", dataset), ("origin", origin)):
        if value:
            where.append(f"s.{col} = ?")
            params.append(value)
    if contains:
        where.append("(s.rewrite_prompt LIKE ? OR s.original_text LIKE ?)")
        params += [f"%{contains}%"] * 2
    sql = "SELECT s.* FROM samples s"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY s.created_at, s.rowid"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return pd.read_sql_query(sql, ctx.store.conn, params=params)


def predictions_frame(ctx: Context, predictor: str | None = None) -> pd.DataFrame:
    import pandas as pd
    sql = "SELECT * FROM predictions"
    params: list[Any] = []
    if predictor:
        sql += " WHERE predictor = ?"
        params.append(predictor)
    return pd.read_sql_query(sql + " ORDER BY sample_id, predictor", ctx.store.conn, params=params)


def duplicate_roots(ctx: Context) -> dict[str, str]:
    """prompt id → the root of its ``duplicate_of`` chain, for every prompt marked a duplicate
    (a prompt not in the map is its own root): paraphrases share a root."""
    parent = dict(ctx.store.query("SELECT id, duplicate_of FROM prompts WHERE duplicate_of IS NOT NULL"))

    def root(pid: str) -> str:
        seen = set()
        while pid in parent and pid not in seen:
            seen.add(pid)
            pid = parent[pid]
        return pid

    return {pid: root(pid) for pid in parent}
