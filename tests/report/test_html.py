"""report.html: written at the end of every run, self-contained, and rendered by headless Chromium with
every summary.csv row and number on the page."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from flamingo_eval.api import evaluate, html_report

from ..engine.fixture_data import write_data_root

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    data = write_data_root(root / "data")
    out = root / "run"
    evaluate(["coco", "vqav2"], out=out, model="tiny", shots=(0, 2), trials=2, num_samples=3, data_root=str(data))
    return out


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("data:"):
                self.external.append(value)
        if tag == "script":
            self.external.append("<script>")

    def handle_data(self, data):
        if data.strip():
            self.cells.append(data.strip())


def test_a_run_writes_a_self_contained_page(run_folder):
    page = (run_folder / "report.html").read_text()
    parser = _Text()
    parser.feed(page)
    assert parser.external == []  # no file, server or script needed
    assert page.count("data:image/png;base64,") == 1  # the plot
    assert "data:image/jpeg;base64," in page  # thumbnails of demonstrations and queries
    assert "Samples and failures" in page and "Nothing was skipped." in page


def test_report_html_rebuilds_the_page_with_its_thumbnails(run_folder, tmp_path):
    page = html_report(run_folder, out=tmp_path / "again.html").read_text()
    assert "data:image/jpeg;base64," in page and 'class="missing"' not in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium; .ci/run installs it)")
def test_chromium_renders_every_summary_row(run_folder, tmp_path):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", (run_folder / "report.html").as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    parser = _Text()
    parser.feed(dom)
    text = " | ".join(parser.cells)
    with (run_folder / "summary.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:  # the rendered summary table holds every row with the file's numbers
        cells = [row[k] for k in ("benchmark", "model", "variant", "shots", "metric", "mean", "std", "trials", "n")]
        assert " | ".join(cells) in text, cells
    for benchmark in {r["benchmark"] for r in rows}:
        assert re.search(rf"\b{benchmark}\b", text)
    shot = tmp_path / "page.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1200,1600",
                    (run_folder / "report.html").as_uri()], capture_output=True, timeout=120, check=True)
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1200, 1600) and len(image.convert("L").getcolors(256) or []) > 10  # drawn, not blank
