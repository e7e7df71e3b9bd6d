"""Make the README's report screenshot (docs/report.png) from a running demo server.

Runs a value-based and a needs-based segmentation, writes the report of the
value-based run compared with the needs-based one, and has headless Chromium
(Debian: apt-get install chromium) photograph the whole page.

Usage (`make serve` in another terminal; set SEGMENTATION_USERNAME and
SEGMENTATION_PASSWORD of an analyst for a server with authentication on):
    .venv/bin/python clients/examples/report_screenshot.py \
        http://127.0.0.1:8000/soap?wsdl docs/report.png
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops
from segmentation_client import connect
from segmentation_client.connection import username_token
from segmentation_client.report import write_report

WIDTH = 1200
TALLEST = 12000  # pixels; the page is photographed in one tall window, then trimmed


def photograph(page: Path, out: Path, work: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is needed (Debian: apt-get install chromium)")
    raw = work / "raw.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={work / 'profile'}",
            f"--window-size={WIDTH},{TALLEST}",
            f"--screenshot={raw}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with Image.open(raw) as picture:
        rgb = picture.convert("RGB")
        # Trim the white below the page's end, keeping a margin.
        content = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
        bottom = min(rgb.height, (content[3] if content else rgb.height) + 32)
        rgb.crop((0, 0, WIDTH, bottom)).save(out, optimize=True)


def main(wsdl: str, out: str) -> None:
    username = os.environ.get("SEGMENTATION_USERNAME")
    password = os.environ.get("SEGMENTATION_PASSWORD", "")
    wsse = username_token(username, password, digest=True) if username else None
    service = connect(wsdl, wsse=wsse).service
    value = service.SegmentCustomers(method="ValueBased", label="Q3 value tiers")
    needs = service.SegmentCustomers(
        method="NeedsBased", label="Q3 needs", needsBased={"randomSeed": 7}
    )
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        page = work / "report.html"
        write_report(service, value.runId, page, compare_run_id=needs.runId)
        photograph(page, Path(out), work)
    print(f"{out}: report of run {value.runId} compared with run {needs.runId}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
