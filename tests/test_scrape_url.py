"""`curator scrape URL` (no source file), `--dry-run` with headings, `--save-source`, and
`Corpus.scrape` called from inside a running event loop (what a Jupyter cell does)."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from curator.scrape.sources import load_source
from sites.server import LocalSite, page

FAST = "\n[scrape]\ndelay = 0.05\nretries = 1\nbackoff = 0.05\nread_timeout = 0.5\ntotal_timeout = 3.0\n" \
       "autothrottle = false\n"


@pytest.fixture
def site():
    with LocalSite() as s:
        s.route("/rewriting/", page("aihabit_rewriting.html"))
        s.route("/styles/", page("learnprompt_styles.html"))
        s.route("/private/x", page("aihabit_editing.html"))
        s.route("/robots.txt", (200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /private/\n"))
        yield s


@pytest.fixture
def env(cli, tmp_path):
    with open(cli.root / "curator.toml", "a", encoding="utf-8") as fh:
        fh.write(FAST)
    sources = tmp_path / "sources"
    sources.mkdir()

    def run(*args):
        return cli(*args, "--sources", sources)

    run.sources, run.root = sources, cli.root  # type: ignore[attr-defined]
    return run


def test_dry_run_of_a_url_shows_prompts_with_headings_and_stores_nothing(env, site):
    out = env("scrape", site.url("/rewriting/"), "--dry-run")
    assert out.exit_code == 0, out.output
    assert "would store from" in out.output and "Prompts for changing the tone" in out.output
    assert "Rewrite the following text in a more formal tone" in out.output and "nothing stored" in out.output
    as_json = json.loads(env("scrape", site.url("/rewriting/"), "--dry-run", "--json").stdout)
    found = as_json["pages"][0]["found"]
    assert len(found) == 10 and found[0]["heading"] == "Prompts for changing the tone"
    conn = sqlite3.connect(env.root / "curator.db")
    assert conn.execute("SELECT COUNT(*) FROM prompts").fetchone()[0] == 0
    # same politeness: robots.txt is read and obeyed for a URL too
    assert len(site.requests(path="/robots.txt")) >= 1
    private = json.loads(env("scrape", site.url("/private/x"), "--json").stdout)
    assert private["pages"][0]["outcome"] == "disallowed" and site.requests(path="/private/x") == []


def test_urls_are_stored_and_save_source_makes_the_next_run_a_name(env, site):
    urls = [site.url("/rewriting/"), site.url("/styles/")]
    first = env("scrape", *urls, "--save-source", "my-finds", "--json")
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert out["totals"]["prompts_new"] == 16 and {p["source"] for p in out["pages"]} == {"my-finds"}
    saved = env.sources / "my-finds.toml"
    assert out["saved_source"] == str(saved)
    src = load_source(saved)
    assert src.name == "my-finds" and src.start_urls == urls and src.max_depth == 0
    assert out["detected"]["prompts"] == 16 and out["detected"]["kinds"]
    # the next run is by name; the pages did not change, nothing is added twice
    again = json.loads(env("scrape", "my-finds", "--json").stdout)
    assert {p["outcome"] for p in again["pages"]} == {"unchanged"} and again["totals"]["prompts_new"] == 0
    conn = sqlite3.connect(env.root / "curator.db")
    assert conn.execute("SELECT COUNT(*) FROM prompts").fetchone()[0] == 16
    assert conn.execute("SELECT COUNT(DISTINCT dataset) FROM provenance").fetchone()[0] == 1
    # an existing file is not overwritten; mistakes are one line, exit 2
    taken = env("scrape", urls[0], "--save-source", "my-finds")
    assert taken.exit_code == 2 and "exists" in taken.output
    assert env("scrape", "example.com/page").exit_code == 2
    assert "must start with http" in env("scrape", "example.com/page").output


def test_detected_content_selector_is_written_when_it_yields_the_same_prompts(env, site):
    out = json.loads(env("scrape", site.url("/rewriting/"), "--dry-run", "--save-source", "one", "--json").stdout)
    content = out["detected"]["content"]
    assert content and load_source(env.sources / "one.toml").content == content
    from curator.scrape.extract import extract_prompts

    html = page("aihabit_rewriting.html").decode()
    assert [p.text for p in extract_prompts(html, content_selector=content).prompts] == \
           [p.text for p in extract_prompts(html).prompts]


def test_corpus_scrape_inside_a_running_event_loop(corpus, site):
    with open(corpus.root / "curator.toml", "a", encoding="utf-8") as fh:
        fh.write(FAST)
    corpus._settings = None  # re-read the file we just appended to

    async def notebook_cell():
        assert asyncio.get_running_loop()  # asyncio.run() would refuse here
        return corpus.scrape(site.url("/rewriting/"))

    summary = asyncio.run(notebook_cell())
    assert summary.totals()["prompts_new"] == 10
    assert len(corpus.prompts()) == 10  # written through the worker thread's own connection, visible here
    events = corpus.store.query("SELECT command FROM events WHERE command = 'scrape'")
    assert len(events) == 1


def test_unreachable_url_is_a_network_error_and_exit_1(env):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    res = env("scrape", f"http://127.0.0.1:{port}/prompts", "--json")
    assert res.exit_code == 1
    page = json.loads(res.stdout)["pages"][0]
    assert page["outcome"] == "error" and page["error"].startswith("network error: connection refused")
    assert "disallowed" not in res.output


def test_followed_links_to_another_site_need_the_sources_allow_patterns(env):
    with LocalSite(hosts=("127.0.0.1", "127.0.0.2")) as web:
        other = web.url("/article", "127.0.0.2")
        web.route("/", f"<html><body><h1>Index</h1><a class='post' href='{other}'>Article</a></body></html>", "127.0.0.1")
        web.route("/article", page("aihabit_editing.html"), "127.0.0.2")
        start = web.url("/", "127.0.0.1")
        (env.sources / "open.toml").write_text(
            f"start_urls = ['{start}']\n[crawl]\nfollow = 'a.post'\nmax_depth = 1\n", encoding="utf-8")
        (env.sources / "named.toml").write_text(
            f"start_urls = ['{start}']\n[crawl]\nfollow = 'a.post'\nmax_depth = 1\n"
            f"allow = ['^http://127[.]0[.]0[.][12]:']\n", encoding="utf-8")
        blocked = {p["url"]: p for p in json.loads(env("scrape", "open", "--json").stdout)["pages"]}
        assert blocked[other]["outcome"] == "blocked" and web.requests("127.0.0.2", "/article") == []
        allowed = {p["url"]: p for p in json.loads(env("scrape", "named", "--json").stdout)["pages"]}
        assert allowed[other]["outcome"] == "new" and allowed[other]["prompts"] == 5
