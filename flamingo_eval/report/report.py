"""The report over one or more results folders: tables in Markdown, CSV and LaTeX, and the plot.

``build_report`` reads the folders and builds everything in memory; ``write_report`` writes it out;
``rich_tables`` (or ``report_tables`` + ``formats.to_rich``) gives the same tables for a terminal. Files written to ``out_dir``:

* ``report_shots.{md,csv,tex}``: primary metric against shots (``tables.shots_table``), with published
  numbers beside this run's when ``paper=True``;
* ``report_models.{md,csv,tex}``: models and variants against benchmarks (``tables.model_table``);
* ``report_deltas.{md,csv,tex}``: each variant against the baseline (``tables.delta_table``), only when
  the results hold more than one variant;
* ``report_shot_scaling.png``: ``plots.shot_scaling_plot``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.table import Table

from ..errors import ResultsError
from ..storage import write_text_atomic
from .formats import to_latex, to_markdown, to_rich
from .plots import shot_scaling_plot
from .published import paper_notes, paper_rows
from .results import ResultSet, chance_levels, load_rows, merged_primary_metrics
from .summary import summarize
from .tables import delta_table, model_table, shots_table

PLOT_NAME = "report_shot_scaling.png"
SCALE_NOTE = ("Values x100, as the papers print them (CIDEr x100, accuracies in %): mean ± sample standard "
              "deviation over trials.")
DELTA_NOTE = ("Baseline rows: mean ± std. Other rows: variant minus baseline (difference of the means over "
              "trials, in points x100).")
RELABEL_NOTE = "A variant named RUN:VARIANT ran in more than one results folder; each folder's rows are kept apart."


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: file stem, title, display DataFrame, footnotes (also in
    ``frame.attrs["notes"]``, so the formatters print them when given the frame alone)."""

    name: str
    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.frame.attrs["notes"] = self.notes


@dataclass(frozen=True)
class Report:
    """Everything a report shows, before it is written.

    summary:         ``summarize`` over all folders' rows.
    primary_metrics: benchmark -> metric shown (run.json's ``primary_metrics``, of the benchmarks present).
    baseline:        the baseline variant's label in ``summary``, or None when it is not there.
    paper:           published rows shown (``published.paper_rows``), or None without ``paper=True``.
    tables:          the tables, in file order.
    chance:          benchmark -> chance level stated by its spec (drawn as a dashed line).
    """

    summary: pd.DataFrame
    primary_metrics: dict[str, str]
    baseline: str | None
    paper: pd.DataFrame | None
    tables: tuple[ReportTable, ...]
    chance: dict[str, float] = dataclasses.field(default_factory=dict)


def _baseline_label(variants: Iterable[str], baseline: str, run: str) -> str | None:
    """The first folder's baseline as labelled in the rows (``RUN:NAME`` if it was relabelled)."""
    present = set(variants)
    for label in (baseline, f"{run}:{baseline}"):
        if label in present:
            return label
    return None


def _run_splits(results: Sequence[ResultSet]) -> dict[str, str]:
    """Benchmark -> its spec's description as run.json records it (``benchmarks.NAME.spec.description``,
    e.g. "VQAv2 val2014, VQA accuracy"), to footnote beside the paper's split; absent ones are skipped."""
    splits: dict[str, str] = {}
    for rs in results:
        benchmarks = rs.run.get("benchmarks")
        for name, entry in (benchmarks.items() if isinstance(benchmarks, dict) else ()):
            spec = entry.get("spec") if isinstance(entry, dict) else None
            if isinstance(spec, dict) and isinstance(spec.get("description"), str):
                splits.setdefault(name, spec["description"])
    return splits


def build_report(
    folders: Sequence[str | os.PathLike[str]], *, paper: bool = False, paper_models: Iterable[str] | None = None
) -> Report:
    """Read the folders and build the report's tables.

    In: results folders; ``paper``: add published numbers (``published.paper_rows``, optionally only
    ``paper_models``) where benchmark and metric match. Out: a ``Report``. ResultsError for unreadable
    folders or when they hold no metric rows.
    """
    results, rows = load_rows(folders)
    if rows.empty:
        raise ResultsError(f"{', '.join(str(r.folder / 'metrics.json') for r in results)}: no metric rows to report")
    summary = summarize(rows)
    benchmarks = set(summary["benchmark"])
    primary = {b: m for b, m in merged_primary_metrics(results).items() if b in benchmarks}
    baseline = _baseline_label(summary["variant"], results[0].baseline, rows["run"].iloc[0])
    relabelled = any(v.startswith(f"{r}:") for v, r in zip(rows["variant"], rows["run"]))
    notes = (SCALE_NOTE, RELABEL_NOTE) if relabelled else (SCALE_NOTE,)

    published = None
    shot_notes = notes
    if paper:
        published = paper_rows(primary, sorted(set(summary["shots"])), paper_models)
        shot_notes = notes + tuple(paper_notes(published, _run_splits(results)))
    tables = [
        ReportTable("report_shots", "Primary metric by number of shots",
                    shots_table(summary, primary, paper=published, baseline=baseline), shot_notes),
        ReportTable("report_models", "Models and variants by benchmark",
                    model_table(summary, None, primary, baseline=baseline), notes),
    ]
    if summary["variant"].nunique() > 1 and baseline is not None:
        tables.append(ReportTable("report_deltas", f"Variants against the baseline ({baseline})",
                                  delta_table(summary, baseline, primary), (DELTA_NOTE, *notes[1:])))
    return Report(summary, primary, baseline, published, tuple(tables), chance_levels(results))


def _markdown_file(table: ReportTable) -> str:
    return f"## {table.title}\n\n" + to_markdown(table.frame, table.notes)


def write_report(
    folders: Sequence[str | os.PathLike[str]] | Report,
    out_dir: str | os.PathLike[str],
    *,
    paper: bool = False,
    paper_models: Iterable[str] | None = None,
) -> list[Path]:
    """Write the report's files into ``out_dir`` (created if missing), each atomically.

    In: results folders (or a ``Report`` already built), the output folder, ``paper`` / ``paper_models``
    as for ``build_report``. Out: the paths written, tables (md, csv, tex each) first, the PNG last.
    """
    report = folders if isinstance(folders, Report) else build_report(folders, paper=paper, paper_models=paper_models)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in report.tables:
        written += [
            write_text_atomic(out / f"{table.name}.md", _markdown_file(table)),
            write_text_atomic(out / f"{table.name}.csv", table.frame.to_csv(index=False, lineterminator="\n")),
            write_text_atomic(out / f"{table.name}.tex", to_latex(table.frame, table.notes)),
        ]
    written.append(shot_scaling_plot(report.summary, report.primary_metrics, out / PLOT_NAME, paper=report.paper,
                                     chance=report.chance))
    return written


def report_tables(
    folders: Sequence[str | os.PathLike[str]] | Report, *, paper: bool = False, paper_models: Iterable[str] | None = None
) -> list[tuple[str, pd.DataFrame]]:
    """The report's tables as (title, display DataFrame) pairs; each frame carries its footnotes in
    ``attrs["notes"]``, which ``to_rich`` / ``to_markdown`` / ``to_latex`` print by default.

    In: results folders (or a ``Report``), ``paper`` / ``paper_models`` as for ``build_report``.
    """
    report = folders if isinstance(folders, Report) else build_report(folders, paper=paper, paper_models=paper_models)
    return [(table.title, table.frame) for table in report.tables]


def rich_tables(
    folders: Sequence[str | os.PathLike[str]] | Report, *, paper: bool = False, paper_models: Iterable[str] | None = None
) -> list[Table]:
    """The report's tables as ``rich`` tables, for the CLI to print (``Console().print(*tables)``).

    In: results folders (or a ``Report``), ``paper`` / ``paper_models`` as for ``build_report``.
    """
    report = folders if isinstance(folders, Report) else build_report(folders, paper=paper, paper_models=paper_models)
    return [to_rich(table.frame, table.title, table.notes) for table in report.tables]
