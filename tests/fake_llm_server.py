"""A local OpenAI-compatible chat-completions server for tests and benchmarks (127.0.0.1 only).

Behaviour is chosen by markers in the request's message text, so one run can mix cases:
``~~429~~`` (first attempt: 429 with Retry-After: 1), ``~~500~~`` (first attempt: 500),
``~~stall~~`` (never answers in time), ``~~malformed~~`` (not JSON), ``~~refusal~~``,
``~~long~~`` (an over-long original), ``~~flaky~~`` (malformed content on a first attempt, i.e.
seed < 1,000,003; valid with a retry's new seed), ``~~vary~~`` in a brainstorm request (three
proposals picked by the request's hash instead of the fixed four). ``latency`` delays every answer. ``mode`` makes every
request fail one way: ``"401"``, ``"403"``, ``"500"`` (that status), ``"badjson"`` (200 with a body
that is not JSON). :func:`closed_port_url` is an address where nothing listens. The server counts
requests in flight (and the maximum), request start times, and completed answers per distinct
request body, so tests can check limits and "no answered request is sent twice".
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


STYLES = ["as a pirate shanty", "as a legal contract clause", "in the voice of a sports commentator",
          "as a haiku about autumn", "as a children's bedtime story", "as a formal apology letter",
          "as a recipe card", "as a tweet with hashtags", "in Shakespearean English", "as a news headline",
          "as a product review", "as a motivational speech", "as a limerick", "as a scientific abstract",
          "as a text message to a friend", "as a weather forecast", "as a museum placard",
          "as a detective's case notes", "in the style of a fairy tale", "as a job advertisement",
          "as a haiku sequence about the sea", "as a medieval proclamation", "as stage directions",
          "as a podcast intro", "as a grocery list", "as an FAQ entry", "as a horoscope", "as a sonnet",
          "as a wedding toast", "as an obituary"]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client killed mid-request (kill -9 tests) is normal
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeLLM:
    def __init__(self, latency: float = 0.0, json_mode: bool = True, mode: str | None = None):
        self.latency = latency
        self.mode = mode
        self.json_mode = json_mode
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.starts: list[float] = []
        self.answered: Counter = Counter()
        self.attempts: Counter = Counter()
        # the default listen backlog of 5 drops connections under 32 parallel clients (SYN retries
        # of 1 s); a real server has a deep backlog
        ThreadingHTTPServer.request_queue_size = 256
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def requests(self) -> int:
        """Requests received (every attempt counts)."""
        return len(self.starts)

    def __enter__(self) -> "FakeLLM":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- answers ------------------------------------------------------------------------------
    def answer(self, body: dict) -> tuple[int, dict, dict]:
        text = "\n".join(m.get("content", "") for m in body.get("messages", []))
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self.lock:
            self.attempts[key] += 1
            attempt = self.attempts[key]
        if self.mode in ("401", "403", "500"):
            return int(self.mode), {}, {"error": {"message": f"mode {self.mode}", "type": "fake"}}
        if "response_format" in body and not self.json_mode:
            return 400, {}, {"error": {"message": "response_format is not supported", "type": "invalid_request"}}
        if "~~429~~" in text and attempt == 1:
            return 429, {"Retry-After": "1"}, {"error": {"message": "rate limited"}}
        if "~~500~~" in text and attempt == 1:
            return 500, {}, {"error": {"message": "boom"}}
        if "~~stall~~" in text:
            time.sleep(30)
        m = re.search(r"(?:Rewrite instruction|instruction): (.+)", text)
        prompt = m.group(1).strip() if m else "Rewrite this."
        words = " ".join(f"word{i}" for i in range(60))
        if "~~malformed~~" in text or ("~~flaky~~" in text and (body.get("seed") or 0) < 1_000_003):
            content = '{"original_text": "unterminated'
        elif "~~refusal~~" in text:
            content = json.dumps({"original_text": "I'm sorry, but as an AI I cannot help with that.",
                                  "rewritten_text": "I'm sorry."})
        elif "~~long~~" in text:
            content = json.dumps({"original_text": " ".join(["long"] * 400), "rewritten_text": "short"})
        elif '"rewritten_text"' in text:
            content = json.dumps({"original_text": f"An everyday note about {prompt[:40]}. {words}",
                                  "rewritten_text": f"Rewritten per '{prompt[:40]}'. {words[:200]}"})
        elif '{"original_text"' in text:
            content = json.dumps({"original_text": f"Stage one original for {prompt[:40]}. {words}"})
        elif '{"prompts"' in text and "~~vary~~" in text:
            k = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            content = json.dumps({"prompts": [f"Rewrite this {STYLES[(k + 7 * i) % len(STYLES)]}." for i in range(3)]})
        elif '{"prompts"' in text:
            content = json.dumps({"prompts": ["Rewrite this as a sea shanty.", "Turn this into a lullaby for robots.",
                                              "Recast this as a medieval town crier's announcement.",
                                              "Turn this into a lullaby for robots."]})
        elif '"prompt"' in text:
            content = json.dumps({"analysis": "tone changed", "prompt": "Make this more formal."})
        else:
            content = f"REWRITTEN: {text[-300:]}"
        usage = {"prompt_tokens": len(text) // 4, "completion_tokens": len(content) // 4,
                 "total_tokens": len(text) // 4 + len(content) // 4}
        return 200, {}, {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                         "model": body.get("model"), "usage": usage,
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": content}}]}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like real API servers
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                # a stalled request is abandoned by the client at its timeout while this thread still
                # sleeps; counting it would charge the client for the server's hang
                counted = "~~stall~~" not in raw.decode("utf-8", "replace")
                with fake.lock:
                    fake.in_flight += counted
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    fake.starts.append(time.monotonic())
                try:
                    if fake.latency:
                        time.sleep(fake.latency)
                    status, headers, payload = fake.answer(body)
                    data = json.dumps(payload).encode() if fake.mode != "badjson" else b'{"choices": [{"mess'

                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    if status == 200:
                        key = hashlib.sha256(json.dumps({k: v for k, v in body.items()
                                                         if k != "response_format"}, sort_keys=True).encode())
                        with fake.lock:
                            fake.answered[key.hexdigest()] += 1
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with fake.lock:
                        fake.in_flight -= counted

        return Handler


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (a port just released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


if __name__ == "__main__":  # python tests/fake_llm_server.py [LATENCY]: prints its URL, serves until killed
    import sys

    with FakeLLM(latency=float(sys.argv[1]) if len(sys.argv) > 1 else 0.1) as fake:
        print(fake.url, flush=True)
        threading.Event().wait()
