"""The HTML report (cluster explorer) in headless Chromium via playwright: renders offline with no
console errors, clicking a cluster shows its members, search finds a prompt, injected markup is text."""

import base64
import gzip
import json
import re
import shutil

import pandas as pd
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
INJECTIONS = ["Rewrite this <script>document.title='PWNED'</script> as a poem.",
              "Make this <img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> formal.",
              "Turn this into a haiku </script><script>document.title='PWNED2'</script>."]
TRAINING = ["Translate this into French.", "Translate this into German.", "Make this more formal.",
            "Make this more polite.", "Turn this into a haiku.", "Convert this into a limerick.",
            "Shorten this to one sentence.", "Summarize this in ten words."] + INJECTIONS
TARGET = ["Convert this into a sea shanty.", "Translate this into Spanish.", "Rewrite this <b>bold</b> & brave."]


@pytest.fixture
def report(cli, tmp_path):
    prompts = tmp_path / "p.csv"
    pd.DataFrame({"rewrite_prompt": TRAINING}).to_csv(prompts, index=False)
    target = tmp_path / "t.csv"
    pd.DataFrame({"rewrite_prompt": TARGET}).to_csv(target, index=False)
    samples = tmp_path / "s.csv"
    pd.DataFrame({"original_text": ["Dear team, the meeting moved to Friday.", "The cat sat on the mat."],
                  "rewrite_prompt": ["Translate this into French.", "Turn this into a haiku."],
                  "rewritten_text": ["Chère équipe, la réunion est déplacée à vendredi.",
                                     "On the mat / a cat sits still / morning light"]}).to_csv(samples, index=False)
    assert cli("ingest", prompts).exit_code == 0
    assert cli("ingest", target, "--as", "target", "--dataset", "test").exit_code == 0
    assert cli("ingest", samples, "--status", "train").exit_code == 0
    assert cli("cluster", "--k", "4").exit_code == 0
    out = tmp_path / "report.html"
    result = cli("coverage", "--html", out)
    assert result.exit_code == 0, result.output
    return out


def _blob(page: str, name: str):
    m = re.search(rf'<script type="text/plain" id="blob-{name}">([A-Za-z0-9+/=\s]*)</script>', page)
    return json.loads(gzip.decompress(base64.b64decode(m.group(1))))


def test_report_is_self_contained_and_escaped(report):
    page = report.read_text()
    assert not re.search(r"<script[^>]+src=", page) and "https://" not in page  # offline: no CDN
    assert "<script>document.title" not in page and "<img src=x" not in page
    prompts = _blob(page, "prompts")
    texts = {p[0]: p for p in prompts}
    assert set(TRAINING + TARGET) <= set(texts)  # every prompt is in the explorer, verbatim
    assert all(texts[t][2] >= 1 for t in TARGET) and all(texts[t][2] == 0 for t in TRAINING)
    summary = json.loads(re.search(r'<script type="application/json" id="summary">(.*?)</script>', page, re.S).group(1))
    assert summary["basis"] == "samples" and sum(c["train"] for c in summary["clusters"]) == 2
    assert len(_blob(page, "samples")) == 2


def test_extension_points(corpus, tmp_path):
    """Another stage can add a section (trusted HTML) and a column of the cluster list."""
    from curator.cluster import cluster_prompts
    from curator.coverage import compute_coverage
    from curator.items import PromptRecord, Provenance, add_prompts
    from curator.report import ReportSection, render_report

    with corpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "public", Provenance("d", "prompts", row=i)) for i, t in enumerate(TRAINING)])
    cluster_prompts(corpus, k=3)
    cov = compute_coverage(corpus)
    out = render_report(corpus, cov, tmp_path / "r.html", sections=[ReportSection("Dataset card", "<p>card!</p>", "card")],
                        columns={"hardness": {int(c): 0.5 for c in cov.clusters["cluster"]}})
    page = out.read_text()
    assert '<section id="section-card"' in page and "<p>card!</p>" in page
    assert '"columns":["hardness"]' in page and '"hardness":0.5' in page


def _browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("python package playwright not installed (pip install playwright; no browser download needed)")
    if CHROMIUM is None:
        pytest.skip("chromium not installed (CI installs the Debian package)")
    return sync_playwright


def test_explorer_in_headless_chromium(report):
    sync_playwright = _browser()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        messages = []
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        assert page.title() == "curator coverage report"  # the injected scripts did not run
        assert page.evaluate("document.body.getAttribute('data-pwned')") is None
        rows = page.locator("#clusters tbody tr")
        assert rows.count() == 4
        # sort by id: ascending ids
        page.click("#sort-id")
        ids = [int(t) for t in page.locator("#clusters tbody tr td:first-child").all_inner_texts()]
        assert ids == sorted(ids)
        # click the cluster of "Turn this into a haiku." and see it among the members
        page.fill("#search", "into a haiku.")
        hit = page.locator("#results li", has_text="Turn this into a haiku.").first
        cluster = int(re.search(r"cluster (\d+)", hit.inner_text()).group(1))
        page.fill("#search", "")
        page.locator(f"#clusters tbody tr[data-cluster='{cluster}']").click()
        members = page.locator("#members li").all_inner_texts()
        assert any(m.endswith("Turn this into a haiku.") for m in members), members
        assert page.locator("#detail h2").inner_text().startswith(f"Cluster {cluster}:")
        # member filter
        page.fill("#member-search", "haiku.")
        assert all("haiku" in m.lower() for m in page.locator("#members li").all_inner_texts())
        # search finds a target prompt; the injected markup shows as text
        page.fill("#search", "sea shanty")
        assert "Convert this into a sea shanty." in page.locator("#results").inner_text()
        page.fill("#search", "PWNED")
        shown = page.locator("#results").inner_text()
        assert "<script>document.title='PWNED'</script>" in shown
        assert page.locator("#results script").count() == 0 and page.title() == "curator coverage report"
        # clicking a point on the map opens its cluster
        box = page.evaluate("(() => { const s = mapPts[0]; return [s[0], s[1]]; })()")
        page.locator("#map").click(position={"x": box[0], "y": box[1]})
        assert page.locator("#detail h2").inner_text().startswith("Cluster ")
        browser.close()
    assert not messages, messages
