"""Reports over results folders: summaries, comparison tables, the shot-scaling plot, published numbers.

Modules, each with one job:

* ``results``: read and check a results folder (``read_results``) and combine folders
  (``combine_metric_rows``);
* ``summary``: mean and std over trials (``summarize``), written as summary.csv / summary.md
  (``write_summary``);
* ``tables``: the comparison tables (``shots_table``, ``model_table``, ``delta_table``);
* ``cells`` / ``formats``: how numbers and tables are shown (x100, ``84.3 ± 1.2``; Markdown, LaTeX, rich);
* ``plots``: ``shot_scaling_plot``;
* ``published``: Flamingo's and OpenFlamingo's published numbers, with their source (``paper_rows``);
* ``report``: all of it for a set of folders (``write_report``, ``rich_tables``).

Files are written atomically (``flamingo_eval.storage``); bad input raises ``errors.ResultsError``.
"""

from .cells import display_scale, format_cell, format_delta
from .formats import latex_escape, table_notes, to_latex, to_markdown, to_rich
from .plots import figure_pixels, shot_scaling_plot
from .published import paper_notes, paper_rows, published_table
from .report import Report, ReportTable, build_report, report_tables, rich_tables, write_report
from .results import ResultSet, combine_metric_rows, load_rows, merged_primary_metrics, read_results
from .summary import SUMMARY_COLUMNS, summarize, write_summary
from .tables import delta_table, infer_primary_metrics, model_table, primary_rows, shots_table

__all__ = [
    "SUMMARY_COLUMNS",
    "Report",
    "ReportTable",
    "ResultSet",
    "build_report",
    "combine_metric_rows",
    "delta_table",
    "display_scale",
    "figure_pixels",
    "format_cell",
    "format_delta",
    "infer_primary_metrics",
    "latex_escape",
    "load_rows",
    "merged_primary_metrics",
    "model_table",
    "paper_notes",
    "paper_rows",
    "primary_rows",
    "published_table",
    "read_results",
    "report_tables",
    "rich_tables",
    "shot_scaling_plot",
    "shots_table",
    "summarize",
    "table_notes",
    "to_latex",
    "to_markdown",
    "to_rich",
    "write_report",
    "write_summary",
]
