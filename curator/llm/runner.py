"""The one journaled runner for every LLM task (see :mod:`curator.llm.task`).

Guarantees:

- **Journal**: every request is keyed by a hash of (model, messages, parameters, seed) in
  ``llm_calls``. An answered request is never sent again; a re-run (after a crash, Ctrl-C or
  ``kill -9``) *replays* journaled answers through the task's ``parse`` → ``store`` path, so what
  a killed run had not stored is stored now, and an answer journaled as invalid leads to the next
  attempt (a new seed) rather than to a prompt that never gets a result.
- **Together or not at all**: an answer's journal row and the rows it stores commit in the same
  transaction. Commits are batched (every ``BATCH`` answers or ``FLUSH_EVERY`` seconds, and at
  the end, on Ctrl-C and before a fatal stop): a killed run loses at most the answers of the
  last half second, which are then asked again — never an answer whose rows were stored.
- **Limits**: ``concurrency`` workers (requests in flight), ``rpm``/``tpm`` over a rolling minute,
  per-request ``timeout``, retries per :class:`curator.net.RetryPolicy`.
- **Cost**: ``max_cost`` (this run's spending, USD) stops sending before the next call could
  cross it (its worst case: estimated input tokens plus ``max_tokens`` of output).
- **Honest stops** (raised as :class:`~curator.errors.RemoteError`, exit 1, after committing
  what was answered): 401/403 at once, naming the key's environment variable; no connection
  ever made after the retry budget, naming the URL and the cause; ``BREAKER`` calls in a row
  failing for good. Otherwise failures are counted and :meth:`RunSummary.failure_line` says how
  many items got no valid answer and why.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from collections import Counter, deque
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

from ..errors import RemoteError
from ..store import Store, dumps, utcnow
from .client import AuthRefused, CallFailed, ChatRequest, Client, LLMConfig
from .task import Invalid, LLMTask, RunSummary

if TYPE_CHECKING:
    from ..context import Context

RATE_WINDOW = 60.0  # seconds of the rolling RPM/TPM window (tests shorten it)
BATCH = 64  # answers per journal commit at most
FLUSH_EVERY = 0.5  # seconds an answer may wait for its commit
BREAKER = 10  # calls in a row failing for good (no answer between) end the run
T = TypeVar("T")

_JOURNAL_SQL = ("INSERT OR REPLACE INTO llm_calls (request_hash, purpose, model, request, response, status, error,"
                " tokens_in, tokens_out, cost, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

_UPDATE_SQL = "UPDATE llm_calls SET status = ?, error = ? WHERE request_hash = ?"


class RateLimiter:
    """Requests-per-minute and tokens-per-minute over a rolling window."""

    def __init__(self, rpm: int | None, tpm: int | None, window: float = 60.0):
        self.rpm, self.tpm, self.window = rpm, tpm, window
        self.events: deque[tuple[float, int]] = deque()
        self.lock = asyncio.Lock()

    async def acquire(self, tokens: int) -> None:
        if not self.rpm and not self.tpm:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.events and now - self.events[0][0] >= self.window:
                    self.events.popleft()
                used = sum(t for _, t in self.events)
                if (not self.rpm or len(self.events) < self.rpm) and (not self.tpm or used + tokens <= self.tpm
                                                                      or not self.events):
                    self.events.append((now, tokens))
                    return
                await asyncio.sleep(max(0.01, self.window - (now - self.events[0][0])))


class Budget:
    """This run's spending against ``max_cost``; shared by the stages of one command."""

    def __init__(self, max_cost: float | None):
        self.max_cost, self.spent, self.reserved = max_cost, 0.0, 0.0

    def reserve(self, worst: float) -> bool:
        if self.max_cost is not None and self.spent + self.reserved + worst > self.max_cost:
            return False
        self.reserved += worst
        return True


class _Run:
    def __init__(self, ctx: "Context", task: LLMTask, cfg: LLMConfig, budget: Budget):
        self.ctx, self.task, self.cfg, self.budget = ctx, task, cfg, budget
        self.summary = RunSummary(purpose=task.purpose)
        self.journal = dict(ctx.store.query("SELECT request_hash, status FROM llm_calls"))
        self.pending: list[tuple] = []
        self.first_pending = 0.0
        self.client: Client | None = None
        self.limiter = RateLimiter(cfg.rpm, cfg.tpm, RATE_WINDOW)
        self.failures_in_a_row: Counter = Counter()
        self.stop: BaseException | None = None  # the first fatal error; later ones are its echoes
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="curator-journal") if task.threaded_store else None
        self.writer_store: Store | None = None
        self.writes: list[Future] = []
        self.fresh: dict[str, str] = {}  # answers not committed yet, for a request repeated within the run

    # -- journal writes, batched -----------------------------------------------------------------
    def queue(self, op: tuple) -> None:
        if not self.pending:
            self.first_pending = time.monotonic()
        self.pending.append(op)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self, wait: bool = False) -> None:
        """Commit the queued answers: in the writer thread (the event loop keeps serving answers
        meanwhile; a commit of 64 samples takes ~30 ms, which inline cost 15% of the wall time at
        32 in flight), or inline for tasks whose ``store`` needs the run's own connection."""
        for f in [f for f in self.writes if f.done()]:
            self.writes.remove(f)
            f.result()  # a failed write ends the run here
        if self.pending:
            ops, self.pending = self.pending, []
            if self.writer is None:
                self._write(ops)
            else:
                self.writes.append(self.writer.submit(self._write, ops))
        if wait:
            while self.writes:
                self.writes.pop(0).result()

    def _write(self, ops: list[tuple]) -> None:
        if self.writer is not None and self.writer_store is None:  # opened in the writer thread, used only there
            self.writer_store = Store(self.ctx.store.path)
        store = self.writer_store or self.ctx.store
        with store.transaction() as conn:
            journal, updates = [], []
            for kind, item, req, h, value, row in ops:
                if kind == "store":
                    self.summary.stored += self.task.store(conn, item, value, req, h) or 0
                if row is not None:
                    (journal if row[0] is _JOURNAL_SQL else updates).append(row[1])
            conn.executemany(_JOURNAL_SQL, journal)
            conn.executemany(_UPDATE_SQL, updates)
        for op in ops:  # committed: readable from the database now
            self.fresh.pop(op[3], None)

    async def flusher(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY / 2)
            if self.pending and time.monotonic() - self.first_pending >= FLUSH_EVERY:
                self.flush()

    # -- one item: attempts until a valid answer --------------------------------------------------
    async def item(self, index: int, item: Any, bar, bar_task) -> None:
        task, s = self.task, self.summary
        key = task.key(item)
        reason = None
        for attempt in range(task.retries + 1):
            req = task.request(item, index, attempt)
            h = req.hash(self.cfg.model)
            s.planned += 1
            status = self.journal.get(h)
            if status in ("ok", "invalid"):
                s.cached += 1
                content = self.fresh.get(h)
                if content is None:
                    content = self.ctx.store.scalar("SELECT response FROM llm_calls WHERE request_hash = ?",
                                                    (h,)) or ""
                outcome = self.answer(item, key, req, h, content, replay=status)
            else:
                outcome = await self.send(item, key, req, h)
            if outcome is None:  # valid
                bar.advance(bar_task)
                return
            kind, reason = outcome
            if kind != "invalid":  # failed call or not sent: a new seed cannot help
                break
        if reason != "not sent (cost cap)":
            s.unresolved[key] = reason
        bar.advance(bar_task)

    def answer(self, item, key, req: ChatRequest, h: str, content: str, replay: str | None = None,
               call: tuple | None = None) -> tuple[str, str] | None:
        """Parse one answer (fresh or journaled) and queue its rows with its journal row."""
        try:
            value, reason = self.task.parse(item, content), None
        except Invalid as exc:
            value, reason = None, exc.reason
        status = "invalid" if reason else "ok"
        row = None
        if call is not None:  # a fresh answer: its journal row
            tin, tout, cost, started = call
            self.fresh[h] = content
            row = (_JOURNAL_SQL, (h, self.task.purpose, self.cfg.model, self._request_json(req), content, status,
                                  reason, tin, tout, cost, started, utcnow()))
        elif status != replay:  # the validation changed since (e.g. other word limits): keep the journal true
            row = (_UPDATE_SQL, (status, reason, h))
        self.queue(("store" if reason is None else "none", item, req, h, value, row))
        self.journal[h] = status
        if reason:
            self.summary.invalid[reason.split(":")[0]] += 1
            return "invalid", reason
        self.summary.done += 1
        if self.task.keep_values:
            self.summary.values[key] = value
        return None

    async def send(self, item, key, req: ChatRequest, h: str) -> tuple[str, str] | None:
        s, cfg = self.summary, self.cfg
        worst = cfg.cost(req.estimated_tokens_in(), req.max_tokens) if self.budget.max_cost is not None else 0.0
        if not self.budget.reserve(worst):
            s.not_sent_cost_cap += 1
            return "not_sent", "not sent (cost cap)"
        if cfg.rpm or cfg.tpm:
            await self.limiter.acquire(req.estimated_tokens_in() + req.max_tokens)
        if self.stop is not None:  # another call ended the run while this one waited for the limiter
            raise self.stop
        started = utcnow()
        s.sent += 1
        try:
            content, tin, tout = await self.client.call(req)
        except AuthRefused as exc:
            self._stop(exc)
        except CallFailed as exc:
            self.budget.reserved -= worst
            s.failed[exc.reason] += 1
            self.queue(("none", item, req, h, None, (_JOURNAL_SQL, (
                h, self.task.purpose, cfg.model, self._request_json(req), None, "failed", exc.reason, None, None,
                None, started, utcnow()))))
            self._breaker(exc)
            return "failed", exc.reason
        self.failures_in_a_row.clear()
        tin = tin if tin is not None else req.estimated_tokens_in()
        cost = cfg.cost(tin, tout)
        self.budget.reserved -= worst
        self.budget.spent += cost
        s.ok += 1
        s.tokens_in += tin
        s.tokens_out += tout
        s.cost += cost
        return self.answer(item, key, req, h, content, call=(tin, tout, cost, started))

    def _breaker(self, exc: CallFailed) -> None:
        url = self.client.url
        if exc.connect and not self.client.connected:
            n = self.cfg.max_retries + 1
            self._stop(RemoteError(f"cannot reach {url}: {exc.reason} (after {n} attempt{'s' if n > 1 else ''}); "
                                   "check --base-url and that the server is running"))
        self.failures_in_a_row[exc.reason] += 1
        n = sum(self.failures_in_a_row.values())
        if n >= BREAKER:
            why = ", ".join(f"{k} {v}" for k, v in self.failures_in_a_row.most_common())
            self._stop(RemoteError(
                f"{self.task.purpose}: stopped after {n} calls in a row failed for good at {url} ({why}; up to "
                f"{self.cfg.max_retries + 1} attempts each); {self.summary.ok} answered before. "
                "Answered calls are kept: run the same command again to resume"))

    def _stop(self, exc: BaseException) -> None:
        """End the run with the first fatal error (calls finishing in the same instant only echo it)."""
        if self.stop is None:
            self.stop = exc
        raise self.stop

    def _request_json(self, req: ChatRequest) -> str:
        return dumps({**req.payload(self.cfg.model), "base_url": self.cfg.base_url, "purpose": self.task.purpose})

    # -- the whole run -----------------------------------------------------------------------------
    async def run(self) -> RunSummary:
        from ..console import progress

        items = list(self.task.items())
        self.summary.items = len(items)
        if not items:
            return self.summary
        self.client = Client(self.cfg)
        source = iter(enumerate(items))
        flusher = asyncio.create_task(self.flusher())
        try:
            with progress() as bar:
                bar_task = bar.add_task(self.task.label or f"{self.task.purpose} ({self.cfg.model})", total=len(items))

                async def worker() -> None:
                    for index, item in source:
                        await self.item(index, item, bar, bar_task)

                workers = [asyncio.create_task(worker()) for _ in range(min(self.cfg.concurrency, len(items)))]
                done, rest = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
                for w in rest:
                    w.cancel()
                await asyncio.gather(*rest, return_exceptions=True)
                errors = [e for w in done if not w.cancelled() and (e := w.exception()) is not None]  # all retrieved
                if self.stop is not None or errors:
                    raise self.stop or errors[0]
        finally:
            flusher.cancel()
            try:
                self.flush(wait=True)  # what was answered is kept, whatever ended the run
            finally:
                if self.writer is not None:
                    self.writer.submit(self._close_writer).result()
                    self.writer.shutdown()
                self.summary.retries = self.client.retries
                await self.client.close()
        return self.summary

    def _close_writer(self) -> None:
        if self.writer_store is not None:
            self.writer_store.close()


async def run_task(ctx: "Context", task: LLMTask, cfg: LLMConfig, budget: Budget | None = None) -> RunSummary:
    """Execute ``task`` against ``cfg``'s endpoint; see the module doc for the guarantees."""
    return await _Run(ctx, task, cfg, budget or Budget(None)).run()


def call_sync(ctx: "Context", fn: Callable[["Context"], Awaitable[T]]) -> T:
    """Run ``fn(ctx)`` to completion from synchronous code: the CLI, a script, or a notebook.

    Inside a running event loop (Jupyter), ``asyncio.run`` is not allowed: the coroutine then runs
    in a worker thread with its own loop and its own connection to the same database (a SQLite
    connection belongs to the thread that opened it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(fn(ctx))
    from ..context import Context
    from ..store import Store

    out: dict[str, Any] = {}
    started = threading.Event()

    def target() -> None:
        store = Store(ctx.store.path)
        loop = asyncio.new_event_loop()
        try:
            out["task"] = loop.create_task(fn(Context(ctx.root, store, ctx.settings)))
            out["loop"] = loop
            started.set()
            out["value"] = loop.run_until_complete(out["task"])
        except BaseException as exc:  # re-raised in the caller's thread
            out["error"] = exc
        finally:
            started.set()
            loop.close()
            store.close()

    thread = threading.Thread(target=target, name="curator-llm")
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:  # the notebook's interrupt: cancel the run, which commits what was answered
        started.wait()
        if "loop" in out and not out["loop"].is_closed():
            out["loop"].call_soon_threadsafe(out["task"].cancel)
        thread.join()
        raise
    if "error" in out:
        raise out["error"]
    return out["value"]


def run_sync(coro):
    """Run a coroutine from synchronous code (no running loop). Prefer :func:`call_sync`."""
    return asyncio.run(coro)
