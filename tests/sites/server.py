"""A local web site for the scraper tests and the benchmark: real HTTP on 127.0.0.x only.

Each host name (127.0.0.1, 127.0.0.2, …: all loopback on Linux) gets its own threaded server, so
the per-host politeness is observable *on the server side*: every request is logged with its
host, path, start and end time, and the number of requests in flight per host is tracked.

Routes map a path (with query) to a body (str/bytes → 200 text/html), a (status, headers, body)
tuple, or a callable ``fn(handler) -> None`` that writes the response itself (stalls, huge bodies,
a 429 then 200 sequence, …).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

PAGES = Path(__file__).parent / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class LocalSite:
    """Servers on the given loopback addresses; ``url(path, host)`` builds their URLs."""

    def __init__(self, hosts: tuple[str, ...] = ("127.0.0.1",), latency: float = 0.0):
        self.hosts = hosts
        self.latency = latency
        self.routes: dict[str, dict[str, Any]] = {h: {} for h in hosts}
        self.log: list[dict[str, Any]] = []
        self.inflight: dict[str, int] = defaultdict(int)
        self.max_inflight: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        self.servers: dict[str, _Server] = {}
        self.threads: list[threading.Thread] = []

    # -- setup ------------------------------------------------------------------------------
    def route(self, path: str, response: Any, host: str | None = None) -> None:
        for h in ([host] if host else self.hosts):
            self.routes[h][path] = response

    def url(self, path: str = "/", host: str | None = None) -> str:
        host = host or self.hosts[0]
        return f"http://{host}:{self.servers[host].server_address[1]}{path}"

    def start(self) -> "LocalSite":
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                host = self.server.server_address[0]
                start = time.monotonic()
                with site.lock:
                    site.inflight[host] += 1
                    site.max_inflight[host] = max(site.max_inflight[host], site.inflight[host])
                    entry = {"host": host, "path": self.path, "start": start, "end": None,
                             "headers": dict(self.headers)}
                    site.log.append(entry)
                try:
                    if site.latency:
                        time.sleep(site.latency)
                    site._respond(self, host)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with site.lock:
                        site.inflight[host] -= 1
                        entry["end"] = time.monotonic()

        for h in self.hosts:
            server = _Server((h, 0), Handler)
            self.servers[h] = server
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()

    def __enter__(self) -> "LocalSite":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ----------------------------------------------------------------------------
    def _respond(self, h: BaseHTTPRequestHandler, host: str) -> None:
        routes = self.routes[host]
        response = routes.get(h.path)
        if response is None and h.path == "/robots.txt":
            response = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
        if response is None:
            response = (404, {"Content-Type": "text/html"}, b"<h1>not found</h1>")
        if callable(response):
            response(h)
            return
        if isinstance(response, (str, bytes)):
            response = (200, {"Content-Type": "text/html; charset=utf-8"}, response)
        status, headers, body = response
        if isinstance(body, str):
            body = body.encode("utf-8")
        send(h, status, headers, body)

    # -- what the server saw ----------------------------------------------------------------
    def requests(self, host: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.log if (host is None or e["host"] == host)
                    and (path is None or e["path"] == path)]

    def gaps(self, host: str) -> list[float]:
        """Seconds between consecutive request arrivals on one host (robots.txt included)."""
        starts = sorted(e["start"] for e in self.requests(host))
        return [b - a for a, b in zip(starts, starts[1:])]


def send(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def sequence(*responses: Any) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route answering with each response in turn, then repeating the last one."""
    state = {"i": 0}
    lock = threading.Lock()

    def handler(h: BaseHTTPRequestHandler) -> None:
        with lock:
            i = min(state["i"], len(responses) - 1)
            state["i"] += 1
        status, headers, body = responses[i]
        send(h, status, headers, body.encode() if isinstance(body, str) else body)

    return handler


def stall(seconds: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """Accept the request, then say nothing for ``seconds`` (a hung server)."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        try:
            send(h, 200, {"Content-Type": "text/html"}, b"<p>too late</p>")
        except OSError:
            pass

    return handler


def huge(total_bytes: int, chunk: int = 1 << 16) -> Callable[[BaseHTTPRequestHandler], None]:
    """An HTML page of ``total_bytes`` bytes, streamed; counts how much the client took."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(total_bytes))
        h.end_headers()
        head = b"<html><body><h2>Big</h2><ol><li>Rewrite this huge text in a calmer tone.</li></ol><p>"
        h.wfile.write(head)
        sent = len(head)
        block = b"x" * chunk
        try:
            while sent < total_bytes:
                n = min(chunk, total_bytes - sent)
                h.wfile.write(block[:n])
                sent += n
        except OSError:
            pass
        handler.sent = sent  # type: ignore[attr-defined]

    handler.sent = 0  # type: ignore[attr-defined]
    return handler
