"""The HTML report in headless Chromium: renders offline, no console errors, injected markup inert."""

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--virtual-time-budget=8000", "--enable-logging=stderr", "--v=0"]
INJECTIONS = ["Rewrite this <script>document.title='PWNED'</script> as a poem.",
              "Make this <img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> formal.",
              "Turn this into a haiku </script><script>document.title='PWNED2'</script>."]


@pytest.fixture
def report(cli, tmp_path):
    prompts = tmp_path / "p.csv"
    lines = ["Translate this into French.", "Translate this into German.", "Make this more formal.",
             "Make this more polite.", "Turn this into a haiku.", "Convert this into a limerick.",
             "Shorten this to one sentence.", "Summarize this in ten words."] + INJECTIONS
    import pandas as pd

    pd.DataFrame({"rewrite_prompt": lines}).to_csv(prompts, index=False)
    target = tmp_path / "t.csv"
    pd.DataFrame({"rewrite_prompt": ["Convert this into a sea shanty.", "Translate this into Spanish.",
                                     "Rewrite this <b>bold</b> & brave."]}).to_csv(target, index=False)
    assert cli("ingest", prompts).exit_code == 0
    assert cli("ingest", target, "--as", "target", "--dataset", "test").exit_code == 0
    assert cli("cluster", "--k", "4").exit_code == 0
    out = tmp_path / "report.html"
    result = cli("coverage", "--html", out)
    assert result.exit_code == 0, result.output
    return out


def test_report_is_self_contained_and_escaped(report):
    page = report.read_text()
    assert not re.search(r"<script[^>]+src=", page)  # no external scripts: works offline
    assert "<script>document.title" not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.title=" in page  # shown as text in the table


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs the Debian package)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    url = report.as_uri()
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'u1'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    html = dom.stdout
    # with --enable-logging=stderr every console message (log, warning, error, uncaught exception)
    # is a ":CONSOLE" line; a clean page prints none
    console_errors = [ln for ln in dom.stderr.splitlines() if ":CONSOLE" in ln]
    assert not console_errors, console_errors
    assert "<title>curator coverage report</title>" in html  # the injected scripts did not run
    assert 'data-pwned="1"' not in html
    for div in ("map", "bars"):
        m = re.search(rf'<div id="{div}"[^>]*>(.*?)</div>\s*<h2', html, re.S) or \
            re.search(rf'<div id="{div}".*?class="main-svg"', html, re.S)
        assert m, f"{div}: plotly did not render"
    assert html.count('class="main-svg"') >= 4  # two plots, each with its svg layers
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'u2'}", "--window-size=1280,1600",
                    f"--screenshot={shot}", url], capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000
