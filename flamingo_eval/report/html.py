"""One self-contained HTML page per results folder: what a researcher shares.

``report.html`` holds, with no external asset (the plot and the thumbnails inline as base64, the style in
the page): the run (command, model, dates, commit), the report's tables (published numbers beside when
asked), the shot-scaling plot, ``summary.csv`` as it is, per benchmark a few sample queries and a few
failures with their prompt, answer, references, score and the thumbnails of their demonstrations and
query, and the skipped records. It opens in any browser, with no server and no script.

Thumbnails need the media files: the caller passes ``media_of(benchmark, example_id) -> paths`` (the run
has its data at hand; ``flamingo-eval report --html`` reads it back through the run's specs). Without
it, or for a file no longer there, the page says so instead of a thumbnail.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..engine.results import ResultsFolder
from ..storage import write_text_atomic
from .formats import to_html
from .report import build_report

MediaOf = Callable[[str, str], Sequence[Path]]  # (benchmark, example id) -> its media files
THUMBNAIL_PX = 96
PAGE = "report.html"
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}th,td{border:1px solid #ccc;padding:.25rem .5rem}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}ul.notes{font-size:.8rem;color:#555}
dl.run dt{font-weight:600;float:left;width:8rem}dl.run dd{margin-left:8.5rem}
.sample{border:1px solid #ddd;border-radius:6px;padding:.6rem;margin:.6rem 0}
.thumbs img{height:72px;margin-right:4px;border:1px solid #ccc}.thumbs .query img{border:3px solid #c33}.thumbs .missing{font-size:.75rem;color:#a33;margin-right:6px}
pre{white-space:pre-wrap;background:#fafafa;padding:.4rem;font-size:.8rem}.score{font-weight:600}
"""


def write_html_report(folder: Path | str, *, media_of: MediaOf | None = None, paper: bool = False, per_benchmark: int = 3,
                      out: Path | str | None = None) -> Path:
    """Write ``report.html`` for the results folder ``folder`` (or to ``out``); returns its path."""
    folder = Path(folder)
    return write_text_atomic(Path(out) if out is not None else folder / PAGE,
                             html_page(folder, media_of=media_of, paper=paper, per_benchmark=per_benchmark))


def html_page(folder: Path, *, media_of: MediaOf | None = None, paper: bool = False, per_benchmark: int = 3) -> str:
    """The page's HTML (see the module docstring)."""
    report = build_report([folder], paper=paper)
    run = _json(folder / "run.json") or {}
    parts = [f"<h1>{escape(folder.name)}</h1>", _run_section(run)]
    for table in report.tables:
        parts.append(f"<h2>{escape(table.title)}</h2>{to_html(table.frame, table.notes)}")
    parts.append(f"<h2>Shot scaling</h2>{_plot(folder, report)}")
    parts.append(_summary_section(folder))
    results = ResultsFolder(folder)
    thumbs = _Thumbnails(media_of)
    parts.append(_samples_section(results.read_predictions(), report.primary_metrics, per_benchmark, thumbs))
    parts.append(_skipped_section(results.read_skipped()))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(folder.name)}: flamingo-eval</title>"
            f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _run_section(run: Mapping[str, Any]) -> str:
    models = ", ".join(sorted({v.get("model", "") for v in run.get("variants", [])} - {""}))
    items = [("command", run.get("command")), ("model", models), ("started", run.get("started")),
             ("finished", run.get("finished")), ("flamingo-eval", run.get("version")), ("commit", run.get("git_commit")),
             ("device", run.get("device"))]
    return "<dl class=\"run\">" + "".join(f"<dt>{k}</dt><dd>{escape(str(v))}</dd>" for k, v in items if v) + "</dl>"


def _plot(folder: Path, report) -> str:
    """The run's shot_scaling.png inline, or one drawn now from the report."""
    path = folder / "shot_scaling.png"
    if path.is_file():
        data = path.read_bytes()
    else:
        import tempfile

        from .plots import shot_scaling_plot

        with tempfile.TemporaryDirectory() as tmp:
            drawn = shot_scaling_plot(report.summary, report.primary_metrics, Path(tmp) / "plot.png", paper=report.paper,
                                      chance=report.chance)
            data = Path(drawn).read_bytes()
    return f'<img alt="shot scaling" style="max-width:100%" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _summary_section(folder: Path) -> str:
    """summary.csv as written (the numbers exactly as in the file)."""
    import csv

    path = folder / "summary.csv"
    if not path.is_file():
        return ""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    head = "".join(f"<th>{escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f'<h2>summary.csv</h2><table class="summary"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class _Thumbnails:
    """Small inline JPEGs of media files, each made once."""

    def __init__(self, media_of: MediaOf | None) -> None:
        self.media_of, self.cache = media_of, {}

    def html(self, benchmark: str, example_id: str) -> str:
        if self.media_of is None:
            return ""
        try:
            paths = list(self.media_of(benchmark, example_id))
        except Exception as err:  # a thumbnail must never stop a report: say why it is missing
            return f'<span class="missing">{escape(example_id)}: {escape(str(err))}</span>'
        return "".join(self._one(Path(p)) for p in paths)

    def _one(self, path: Path) -> str:
        if path not in self.cache:
            self.cache[path] = self._encode(path)
        return self.cache[path]

    @staticmethod
    def _encode(path: Path) -> str:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
                buffer = io.BytesIO()
                image.save(buffer, format="JPEG", quality=80)
        except (OSError, UnidentifiedImageError):  # a video, or a file no longer there
            return f'<span class="missing">[{escape(path.name)}]</span>'
        return f'<img alt="{escape(path.name)}" src="data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _samples_section(rows: Sequence[dict[str, Any]], primary: Mapping[str, str], per_benchmark: int, thumbs: _Thumbnails) -> str:
    """Per benchmark: the first queries of trial 0 at the most shots, then failures (score 0) there."""
    parts = ["<h2>Samples and failures</h2>"]
    for benchmark in primary:
        members = [r for r in rows if r.get("benchmark") == benchmark and r.get("trial") == 0]
        if not members:
            continue
        most = max(r["shots"] for r in members)
        at = [r for r in members if r["shots"] == most]
        samples = at[:per_benchmark]
        failures = [r for r in at if r.get("score") == 0 and r not in samples][:per_benchmark]
        parts.append(f"<h3>{escape(benchmark)}, {most} shots, trial 0</h3>")
        parts += [_sample(r, thumbs, "sample") for r in samples]
        parts += [_sample(r, thumbs, "failure") for r in failures]
    return "\n".join(parts)


def _sample(row: Mapping[str, Any], thumbs: _Thumbnails, kind: str) -> str:
    benchmark = row["benchmark"]
    images = ("".join(thumbs.html(benchmark, d) for d in row.get("demo_ids", []))
              + f'<span class="query" title="the query">{thumbs.html(benchmark, row["query_id"])}</span>')
    score = row.get("score")
    references = "; ".join(str(r) for r in row.get("references", []))
    return (f'<div class="sample {kind}"><div><b>{kind}</b> · query {escape(str(row["query_id"]))} · '
            f'<span class="score">score {"-" if score is None else f"{score:.3f}"}</span></div>'
            f'<div class="thumbs">{images}</div><pre>{escape(str(row.get("prompt", "")))}</pre>'
            f'<div>answer: <b>{escape(str(row.get("prediction", "")))}</b></div>'
            f'<div>references: {escape(references)}</div></div>')


def _skipped_section(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "<h2>Skipped</h2><p>Nothing was skipped.</p>"
    keys = ["variant", "benchmark", "shots", "trial", "id", "file", "reason"]
    head = "".join(f"<th>{k}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(k, '')))}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<h2>Skipped ({len(rows)})</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
