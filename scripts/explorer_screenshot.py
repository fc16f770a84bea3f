"""Screenshot of the coverage report's cluster explorer (docs/explorer.png), taken with playwright.

Usage: python scripts/explorer_screenshot.py REPORT.html [OUT.png] [--chromium /usr/bin/chromium]
Build the report from the demo corpus first (scripts/demo.sh writes corpus/out/coverage.html).
The top gap cluster is opened so the picture shows the map, the list and a cluster's members.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("out", nargs="?", default="docs/explorer.png")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1150})
        page.goto(Path(args.report).resolve().as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        page.locator("#clusters tbody tr").first.click()
        page.evaluate("document.getElementById('explorer').scrollIntoView()")
        page.screenshot(path=args.out)
        browser.close()
    print(f"screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
