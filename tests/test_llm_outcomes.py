"""Honest outcomes of the LLM commands through the CLI, against the local fake server (127.0.0.1):
exit codes, the one-line messages, and how many requests the server saw."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_llm_server import FakeLLM, closed_port_url  # noqa: E402

KEY = "sk-test-do-not-print-1234"


@pytest.fixture
def prompts_file(tmp_path, shared_data):
    """20 real prompts (the procedural prompts of an 11th-place solution)."""
    texts = json.loads((shared_data / "prompts" / "procedural_prompts.json").read_text())[:20]
    f = tmp_path / "prompts.csv"
    pd.DataFrame({"rewrite_prompt": texts}).to_csv(f, index=False)
    return f


def generate(cli, url, prompts_file, *extra):
    return cli("generate", "--prompts", prompts_file, "--base-url", url, "--model", "fake", "--concurrency", "4",
               "--max-retries", "1", "--min-words", "5", *extra)


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("mode, message, most_requests", [
    # a wrong key stops at once: only the requests already in flight (the concurrency) were sent
    ("401", "error: the server refused the key in $OPENAI_API_KEY (http 401 from http://127.0.0.1:", 4),
    ("403", "error: the server refused the key in $OPENAI_API_KEY (http 403 from http://127.0.0.1:", 4),
    # a failing streak ends the run: 10 calls failed for good (2 attempts each) + what was in flight
    ("500", "error: generate: stopped after 10 calls in a row failed for good at http://127.0.0.1:", 2 * (10 + 3)),
    ("badjson", "error: generate: stopped after 10 calls in a row failed for good at http://127.0.0.1:", 10 + 3),
])
def test_every_call_failing_exits_1_with_one_line(cli, prompts_file, monkeypatch, mode, message, most_requests):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeLLM(mode=mode) as fake:
        result = generate(cli, fake.url, prompts_file)
        sent = fake.requests
    assert result.exit_code == 1, result.output
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert KEY not in result.stderr + result.stdout
    assert 1 <= sent <= most_requests
    if mode == "500":
        assert "(http 500 10; up to 2 attempts each)" in lines[0] and sent >= 20
    if mode == "badjson":
        assert "invalid response body (not JSON) 10" in lines[0]


def test_nothing_listening_names_the_url_and_the_cause(cli, prompts_file):
    url = closed_port_url()
    result = generate(cli, url, prompts_file)
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: cannot reach {url}/chat/completions: connection refused (after 2 "
                                   "attempts); check --base-url and that the server is running"]


def test_tls_to_a_plain_http_server_is_named_tls(cli, prompts_file):
    with FakeLLM() as fake:
        url = fake.url.replace("http://", "https://")
        result = cli("generate", "--prompts", prompts_file, "--base-url", url, "--model", "fake", "--max-retries", "0")
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: cannot reach {url}/chat/completions: TLS error (after 1 attempt); "
                                   "check --base-url and that the server is running"]


def test_missing_key_for_a_hosted_endpoint_is_said_before_any_call(cli, prompts_file, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = cli("generate", "--prompts", prompts_file, "--base-url", "https://api.openai.com/v1")
    assert result.exit_code == 2
    assert error_lines(result) == ["error: $OPENAI_API_KEY is not set and https://api.openai.com/v1 needs an API "
                                   "key: export OPENAI_API_KEY=… (or name another variable with --api-key-env)"]


def test_max_cost_with_an_unknown_price_refuses_to_start(cli, prompts_file):
    with FakeLLM() as fake:
        refused = generate(cli, fake.url, prompts_file, "--max-cost", "0.01")
        assert fake.requests == 0
        priced = generate(cli, fake.url, prompts_file, "--max-cost", "0.01", "--price-in", "0.1", "--price-out",
                          "0.4", "--json")
        assert fake.requests == 20
    assert refused.exit_code == 2
    assert error_lines(refused) == ["error: --max-cost 0.01: the price of model 'fake' is unknown, so the cap "
                                    "cannot be enforced; give it with --price-in/--price-out (USD per million "
                                    "tokens) or in curator.toml [llm.prices]"]
    assert priced.exit_code == 0 and json.loads(priced.stdout)["stage1"]["cost"] > 0


def test_some_prompts_failing_for_good_exit_1_and_done_exits_0(cli, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("rewrite_prompt\nMake it formal.\nMake it rhyme ~~malformed~~.\nShorten it ~~refusal~~.\n")
    with FakeLLM() as fake:
        partial = generate(cli, fake.url, f, "--retries", "1")
        assert fake.requests == 5  # 1 + 2 + 2: the invalid answers are asked once more with a new seed
        ok = generate(cli, fake.url, f.with_name("q.csv") if f.with_name("q.csv").write_text(
            "rewrite_prompt\nMake it formal.\nMake it shorter.\n") else f)
    assert partial.exit_code == 1
    assert error_lines(partial) == ["error: generate: 2 of 3 got no valid answer (malformed 1, refusal 1)"]
    assert "invalid answers: malformed 2, refusal 2" in partial.stderr
    assert ok.exit_code == 0 and not error_lines(ok)


def test_network_causes_are_named_like_the_scraper_does():
    """DNS cannot be failed on 127.0.0.1 without other traffic, so the mapping is checked on the
    exceptions aiohttp raises for each cause (refused and TLS are exercised for real above)."""
    import asyncio
    import socket
    from types import SimpleNamespace

    import aiohttp

    from curator.llm.client import network_cause

    key = SimpleNamespace(host="api.example.invalid", port=443, ssl=True)
    assert network_cause(aiohttp.ClientConnectorDNSError(key, socket.gaierror(-2, "Name or service not known"))) \
        == ("DNS lookup failed", True)
    assert network_cause(aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))) \
        == ("connection refused", True)
    assert network_cause(aiohttp.ConnectionTimeoutError()) == ("timeout", True)  # while connecting
    assert network_cause(asyncio.TimeoutError()) == ("timeout", False)  # connected, no answer in time
