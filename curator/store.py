"""The SQLite store: one file per corpus directory, WAL mode, numbered migrations.

Why SQLite: a user can open the corpus with any SQLite tool or ``pandas.read_sql``, writes are
transactional (an interrupted command leaves whole rows or nothing), and WAL lets a reader (the
report, a notebook) look while a writer works.

Migrations are the files ``curator/migrations/NNN_name.sql``, applied in numeric order, each in
its own transaction together with its row in ``schema_migrations``; ``PRAGMA user_version`` holds
the highest number applied. Numbers need not be contiguous, so separate areas of the code can
own separate ranges without colliding.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections import OrderedDict
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator, TypeVar

T = TypeVar("T")
CACHE_ENTRIES = 8  # bulk reads kept by Store.cached (each up to a few tens of MB at 250k prompts)
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def utcnow() -> str:
    """ISO-8601 UTC timestamp with seconds, the one time format of the store."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON for meta columns (stable text, so stable checksums)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every packaged migration, in order."""
    found = []
    for entry in resources.files("curator.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    numbers = [n for n, _, _ in found]
    if len(numbers) != len(set(numbers)):
        raise RuntimeError(f"two migrations share a number: {sorted(numbers)}")
    return sorted(found)


class Store:
    """A connection to ``curator.db`` with the schema brought up to date.

    Use :meth:`transaction` for every write: it is ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back
    on any exception, so a failing command changes nothing.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        # random content-id keys touch pages all over the B-trees: a 64 MB page cache keeps bulk
        # ingests from re-reading them (measured here: 25 s → 19 s for a 250k-row file)
        self.conn.execute("PRAGMA cache_size=-65536")
        self._cache: OrderedDict[Hashable, tuple[tuple[int, int], Any]] = OrderedDict()
        self._sharing = 0
        self._large: set[Hashable] = set()
        self.migrate()

    # -- schema -----------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply every migration not yet applied; returns the numbers applied now."""
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in self.conn.execute("SELECT number FROM schema_migrations")}
        applied = []
        for number, name, sql in migrations():
            if number in done:
                continue
            with self.transaction():
                for statement in _split_sql(sql):
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, name, utcnow())
                )
                self.conn.execute(f"PRAGMA user_version = {number}")
            applied.append(number)
        return applied

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self, foreign_keys: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested use joins the outer one (a savepoint).

        ``foreign_keys=False`` turns SQLite's per-row reference checks off for this transaction
        (when it is the outer one; a nested one keeps the outer setting): for a bulk write whose
        caller checks every reference itself in one query, because the per-row check is most of
        the cost of updating 100k+ rows (see ``dedup.set_duplicate_of``)."""
        if not foreign_keys and not self.conn.in_transaction:
            self.conn.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set before BEGIN
            try:
                with self.transaction() as conn:
                    yield conn
            finally:
                self.conn.execute("PRAGMA foreign_keys=ON")
            return
        if self.conn.in_transaction:
            name = f"sp_{id(object())}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            self.conn.execute(f"RELEASE {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def rows(self, sql: str, params: Any = ()) -> list[tuple]:
        """Like :meth:`query`, as plain tuples: for bulk reads, where building a ``sqlite3.Row``
        per row costs more than the read (about a second per 250k rows here)."""
        cur = self.conn.cursor()
        cur.row_factory = None
        return cur.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def cached(self, key: Hashable, compute: Callable[[], T], large: bool = False) -> T:
        """``compute()``, reused while the database is unchanged: a bulk read that one command
        makes several times (coverage, its report and the card each wanted every cluster
        assignment and the id → row map of the vectors: 250k rows, 0.5 s a read).

        Unchanged means no other connection committed (``PRAGMA data_version``) and this one
        changed no row (``total_changes``); inside a transaction nothing is cached, because a
        rollback would leave a value that no longer exists. The value is shared: treat it as
        read-only. At most :data:`CACHE_ENTRIES` values are kept (least recently used go).
        ``large`` values (vector matrices: 384 MB at 250k prompts) are kept only inside
        :meth:`sharing`, so a notebook's long-lived store never holds one after the command."""
        if self.conn.in_transaction or (large and not self._sharing):
            return compute()
        stamp = (self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp:
            self._cache.move_to_end(key)
            return hit[1]
        value = compute()
        # this connection's own writes during compute (vectors embedded on the way) are in the value
        self._cache[key] = ((stamp[0], self.conn.total_changes), value)
        if large:
            self._large.add(key)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return value

    @property
    def sharing_active(self) -> bool:
        return self._sharing > 0

    @contextmanager
    def sharing(self) -> Iterator[None]:
        """Within this block ``large`` cached values are kept too (coverage hands its vectors to
        the report's card this way: 2 × 384 MB reads fewer at 250k); they go when it ends."""
        self._sharing += 1
        try:
            yield
        finally:
            self._sharing -= 1
            if not self._sharing:
                self.release_large()

    def release_large(self) -> None:
        """Drop the ``large`` cached values now, while sharing goes on: the report calls it once
        its card, the last reader of the full matrices, is done (at 250k prompts 366 MB less
        under the report's own peak)."""
        for key in self._large:
            self._cache.pop(key, None)
        self._large.clear()

    def log_event(self, command: str, args: dict | None = None, summary: dict | None = None) -> None:
        """Record what a command did (inside the caller's transaction when there is one)."""
        self.conn.execute(
            "INSERT INTO events (at, command, args, summary) VALUES (?, ?, ?, ?)",
            (utcnow(), command, dumps(args or {}), dumps(summary or {})),
        )

    def tables(self) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """(row count, sha256 of all rows in key order) per table: equal means same content."""
        out = {}
        for table in self.tables():
            digest = hashlib.sha256()
            rows = self.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for row in rows:
                digest.update(repr(tuple(row)).encode("utf-8"))
            out[table] = (len(rows), digest.hexdigest())
        return out

    def close(self) -> None:
        self.conn.close()


def _split_sql(sql: str) -> list[str]:
    """Statements of a migration file (sqlite3.complete_statement keeps triggers whole)."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
