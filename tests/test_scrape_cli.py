"""`curator sources list|check` and `curator scrape` end to end against a local site on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from curator.scrape.sources import load_source, load_sources
from sites.server import LocalSite, huge, page, sequence, stall

REPO = Path(__file__).resolve().parents[1]
FAST_SCRAPE = """
[scrape]
delay = 0.02
retries = 1
backoff = 0.05
read_timeout = 0.5
total_timeout = 3.0
max_bytes = 1048576
autothrottle = false
"""


@pytest.fixture
def site():
    with LocalSite() as s:
        s.route("/category/prompts-for-writing/", page("aihabit_category_1.html"))
        s.route("/category/prompts-for-writing/page/2/", page("aihabit_category_2.html"))
        s.route("/chatgpt-prompts-for-rewriting-text/", page("aihabit_rewriting.html"))
        s.route("/chatgpt-prompts-for-editing/", page("aihabit_editing.html"))
        s.route("/chatgpt-prompts-for-writing-emails/", page("aihabit_emails.html"))
        s.route("/robots.txt", (200, {"Content-Type": "text/plain"}, "User-agent: *\nDisallow: /private/\n"))
        yield s


@pytest.fixture
def env(cli, site, tmp_path):
    """A corpus with fast politeness settings and a sources directory pointing at the local site."""
    with open(cli.root / "curator.toml", "a", encoding="utf-8") as fh:
        fh.write(FAST_SCRAPE)
    sources = tmp_path / "sources"
    sources.mkdir()
    base = site.url("")
    (sources / "category.toml").write_text(f"""
name = "category"
start_urls = ["{base}/category/prompts-for-writing/"]
[crawl]
allow = ['^{base.replace('.', '[.]')}/']
follow = "article h2.entry-title a"
paginate = "a.next.page-numbers"
max_pages = 20
max_depth = 1
""", encoding="utf-8")

    def run(*args):
        return cli(*args, "--sources", sources) if args[0] != "sources" else cli(args[0], *args[1:], "--sources", sources)

    run.sources = sources  # type: ignore[attr-defined]
    run.root = cli.root  # type: ignore[attr-defined]
    return run


def _db(root: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(root / "curator.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_category_pagination_loop_and_articles(env, site):
    res = env("scrape", "category", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    pages = {p["url"].replace(site.url(""), ""): p for p in out["pages"]}
    assert set(pages) == {"/category/prompts-for-writing/", "/category/prompts-for-writing/page/2/",
                          "/chatgpt-prompts-for-rewriting-text/", "/chatgpt-prompts-for-editing/",
                          "/chatgpt-prompts-for-writing-emails/"}  # the off-site article is not allowed
    assert all(p["outcome"] == "new" for p in pages.values())
    assert any("pagination loop" in n for n in pages["/category/prompts-for-writing/page/2/"]["notes"])
    assert pages["/chatgpt-prompts-for-rewriting-text/"]["prompts"] == 10
    assert pages["/chatgpt-prompts-for-editing/"]["prompts"] == 5
    assert pages["/chatgpt-prompts-for-writing-emails/"]["prompts"] == 4
    assert out["totals"]["prompts_new"] == 19
    # each URL fetched once, the loop did not refetch page 1
    assert len(site.requests(path="/category/prompts-for-writing/")) == 1

    conn = _db(env.root)
    row = conn.execute("SELECT p.text, p.origin, p.source, p.url, p.meta, v.row, v.context, v.role, v.sha256 "
                       "FROM prompts p JOIN provenance v ON v.item_id = p.id "
                       "WHERE p.text LIKE 'Shorten this paragraph%'").fetchone()
    assert row["origin"] == "scraped" and row["source"] == "category" and row["role"] == "scraped"
    assert row["url"].endswith("/chatgpt-prompts-for-rewriting-text/")
    assert row["row"] == 5 and row["context"] == "Prompts for changing the length"
    meta = json.loads(row["meta"])
    assert meta["heading"] == "Prompts for changing the length" and meta["fetched_at"]
    page_row = conn.execute("SELECT * FROM pages WHERE url LIKE '%rewriting-text/'").fetchone()
    assert page_row["status"] == 200 and page_row["prompts"] == 10 and page_row["sha256"] == row["sha256"]
    assert page_row["error"] is None

    # a re-run: everything unchanged (fresh cache), nothing new, no network request for the pages
    before = len(site.log)
    again = json.loads(env("scrape", "category", "--json").stdout)
    assert {p["outcome"] for p in again["pages"]} == {"unchanged"}
    assert again["totals"]["prompts_new"] == 0 and again["totals"]["pages"] == 5
    assert len(site.log) == before
    assert conn.execute("SELECT COUNT(*) FROM prompts").fetchone()[0] == 19


def test_rerun_with_expired_cache_sends_conditional_requests(env, site):
    with open(env.root / "curator.toml", "a", encoding="utf-8") as fh:
        fh.write("cache_ttl = 0\n")
    assert env("scrape", "category").exit_code == 0
    second = json.loads(env("scrape", "category", "--json").stdout)
    assert {p["outcome"] for p in second["pages"]} == {"unchanged"}
    assert second["totals"]["prompts_new"] == 0
    # --refresh re-extracts, still adds nothing new (content ids)
    third = json.loads(env("scrape", "category", "--refresh", "--json").stdout)
    assert {p["outcome"] for p in third["pages"]} == {"new"} and third["totals"]["prompts_new"] == 0


def test_every_failure_is_reported_per_url_and_nothing_crashes(env, site):
    site.route("/busy", sequence((429, {"Retry-After": "1"}, "slow down"), (200, {"Content-Type": "text/html"},
                                                                          page("linkedin_pulse.html"))))
    site.route("/flaky", sequence((500, {}, "oops"), (200, {"Content-Type": "text/html"}, page("aihabit_editing.html"))))
    site.route("/hang", stall(2.0))
    site.route("/loop-a", (302, {"Location": "/loop-b"}, ""))
    site.route("/loop-b", (302, {"Location": "/loop-a"}, ""))
    site.route("/big", huge(50 * 1024 * 1024))
    site.route("/doc.pdf", (200, {"Content-Type": "application/pdf"}, b"%PDF-1.7"))
    site.route("/latin", (200, {"Content-Type": "text/html; charset=utf-8"},
                          "<h2>Caf\xe9<ol><li>Rewrite this text for a caf\xe9 menu<li>Shorten the text below".encode("cp1252")))
    base = site.url("")
    urls = ["/private/secret", "/busy", "/flaky", "/hang", "/loop-a", "/big", "/doc.pdf", "/latin", "/missing"]
    (env.sources / "mixed.toml").write_text(
        "name = 'mixed'\nstart_urls = [" + ", ".join(f"'{base}{u}'" for u in urls) + "]\n[crawl]\nmax_pages = 20\n",
        encoding="utf-8")
    res = env("scrape", "mixed", "--json")
    assert res.exit_code == 0, res.output
    got = {p["url"].replace(base, ""): p for p in json.loads(res.stdout)["pages"]}
    assert set(got) == set(urls)
    assert got["/private/secret"]["outcome"] == "disallowed"
    assert got["/busy"]["outcome"] == "new" and got["/busy"]["prompts"] == 5
    assert got["/flaky"]["outcome"] == "new" and got["/flaky"]["prompts"] == 5
    assert got["/hang"]["outcome"] == "error" and "timeout" in got["/hang"]["error"]
    assert got["/loop-a"]["outcome"] == "error" and "redirect loop" in got["/loop-a"]["error"]
    assert got["/big"]["outcome"] == "new" and any("cut" in n for n in got["/big"]["notes"])
    assert got["/big"]["prompts"] == 1
    assert got["/doc.pdf"]["outcome"] == "skipped" and "application/pdf" in got["/doc.pdf"]["error"]
    assert got["/latin"]["prompts"] == 2
    assert got["/missing"]["outcome"] == "error" and got["/missing"]["error"] == "HTTP 404"
    assert site.requests(path="/private/secret") == []
    conn = _db(env.root)
    errors = dict(conn.execute("SELECT url, error FROM pages WHERE error IS NOT NULL").fetchall())
    assert len(errors) == 5  # disallowed, hang, loop, pdf, 404
    assert "Café" in conn.execute("SELECT context FROM provenance WHERE file LIKE '%/latin'").fetchone()[0]


def test_dry_run_and_check_store_nothing(env, site):
    conn = _db(env.root)
    before = conn.execute("SELECT (SELECT COUNT(*) FROM prompts), (SELECT COUNT(*) FROM pages)").fetchone()
    dry = env("scrape", "category", "--dry-run", "--max-pages", "2", "--json")
    assert dry.exit_code == 0
    out = json.loads(dry.stdout)
    assert out["totals"]["pages"] == 2 and {p["outcome"] for p in out["pages"]} == {"dry-run"}
    check = env("sources", "check", "category", "--url", site.url("/chatgpt-prompts-for-editing/"), "--json")
    assert check.exit_code == 0, check.output
    found = json.loads(check.stdout)
    assert [p["text"] for p in found["prompts"]][0].startswith("Proofread this text")
    assert found["prompts"][0]["heading"] == "Proofreading"
    first = json.loads(env("sources", "check", "category", "--json").stdout)
    assert first["prompts"] == [] and len(first["links"]["follow"]) == 2 and len(first["links"]["paginate"]) == 1
    after = conn.execute("SELECT (SELECT COUNT(*) FROM prompts), (SELECT COUNT(*) FROM pages)").fetchone()
    assert tuple(before) == tuple(after) == (0, 0)
    listed = json.loads(env("sources", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["category"]


def test_remote_list_and_local_file_sources(env, site, tmp_path):
    site.route("/prompts.csv", (200, {"Content-Type": "text/csv"},
                                'act,prompt\nEditor,"Rewrite this text, keeping its meaning: [text]"\n'
                                'Poet,Turn the paragraph below into a haiku\nBad,ok\n'))
    (env.sources / "remote.toml").write_text(
        f"name='remote'\nkind='list'\nurl='{site.url('/prompts.csv')}'\nformat='csv'\ncolumn='prompt'\n",
        encoding="utf-8")
    (tmp_path / "mine.txt").write_text("Rewrite it as a limerick please\nMake this email shorter\n", encoding="utf-8")
    (env.sources / "mine.toml").write_text(f"name='mine'\nkind='file'\npath='{tmp_path / 'mine.txt'}'\n",
                                            encoding="utf-8")
    out = json.loads(env("scrape", "remote", "mine", "--json").stdout)
    by = {p["source"]: p for p in out["pages"]}
    assert by["remote"]["prompts"] == 2 and by["mine"]["prompts"] == 2
    conn = _db(env.root)
    texts = {r[0]: r[1] for r in conn.execute("SELECT text, origin FROM prompts")}
    assert texts == {"Rewrite this text, keeping its meaning: [text]": "scraped",  # stored as found
                     "Turn the paragraph below into a haiku": "scraped",
                     "Rewrite it as a limerick please": "local", "Make this email shorter": "local"}
    assert conn.execute("SELECT row FROM provenance WHERE dataset='remote' ORDER BY row").fetchall()[0][0] == 1
    meta = json.loads(conn.execute("SELECT meta FROM prompts WHERE text LIKE 'Rewrite this text%'").fetchone()[0])
    assert meta["normalised"] == "Rewrite this text, keeping its meaning: {text}"  # derived, beside it


def test_bad_source_files_are_one_line_errors(env):
    (env.sources / "broken.toml").write_text("name = 'broken'\nkind = 'site'\nstart_urls = ['ftp://x']\n")
    res = env("sources", "list")
    assert res.exit_code == 2 and "broken.toml: start_urls" in res.output
    (env.sources / "broken.toml").write_text("kind = 'list'\nurl = 'https://x/prompts.csv'\n")
    res = env("sources", "list")
    assert res.exit_code == 2 and "column" in res.output
    (env.sources / "broken.toml").unlink()
    assert env("scrape", "nope").exit_code == 2
    assert env("scrape").exit_code == 2


def test_repository_sources_are_valid():
    found = load_sources(REPO / "sources")
    kinds = {s.kind for s in found.values()}
    assert kinds == {"site", "list", "file"}
    assert len([s for s in found.values() if s.kind == "site"]) == 7
    cat = load_source(REPO / "sources" / "aihabit-writing-category.toml")
    assert cat.follow and cat.paginate and cat.allowed("https://aihabit.net/chatgpt-prompts-for-editing/")
    assert not cat.allowed("https://aihabit.net/tag/chatgpt/") and not cat.allowed("https://example.com/")
    local = found["local-rewrite-prompts"]
    assert local.file.exists()


def test_repository_category_selectors_match_the_reproduced_page():
    from curator.scrape.site import discover_links

    cat = load_source(REPO / "sources" / "aihabit-writing-category.toml")
    follow, pages = discover_links(page("aihabit_category_1.html").decode(), "https://aihabit.net/category/prompts-for-writing/",
                                   cat.follow, cat.paginate)
    assert [u for u in follow if cat.allowed(u)] == ["https://aihabit.net/chatgpt-prompts-for-rewriting-text/",
                                                     "https://aihabit.net/chatgpt-prompts-for-editing/"]
    assert pages == ["https://aihabit.net/category/prompts-for-writing/page/2/"]
