"""Tables as text: Markdown, LaTeX (booktabs) and rich, from a DataFrame of display strings.

The inputs are the report's tables (``tables.py``): plain columns, cells already formatted (``84.3 ±
1.2``). CSV needs nothing here (``DataFrame.to_csv``). Written here rather than with pandas' ``to_markdown``
/ ``to_latex`` because those need the optional ``tabulate`` / ``jinja2`` packages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
from rich.table import Table

from .cells import MISSING

# A cell that reads as a number ("84.3", "+1.2", "84.3 ± 1.2") is right-aligned, as numbers are in papers.
_NUMERIC = re.compile(r"^[+-]?\d+(\.\d+)?( ± \d+(\.\d+)?)?$")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "±": r"$\pm$", "×": r"$\times$",
}


def _cells(df: pd.DataFrame) -> list[list[str]]:
    """The body as strings; a missing value (NaN/None) shows as ``MISSING``."""
    return [[MISSING if pd.isna(v) else str(v) for v in row] for row in df.itertuples(index=False)]


def numeric_columns(df: pd.DataFrame) -> list[bool]:
    """Per column: True when every shown cell is a number (or missing), so it is right-aligned."""
    body = _cells(df)
    return [
        bool(body) and all(row[j] == MISSING or _NUMERIC.match(row[j]) for row in body)
        for j in range(len(df.columns))
    ]


def table_notes(df: pd.DataFrame, notes: Sequence[str] | None) -> tuple[str, ...]:
    """The notes to print under a table: those given, else the ones the table carries in
    ``df.attrs["notes"]`` (the report's tables do), else none."""
    return tuple(notes) if notes is not None else tuple(df.attrs.get("notes", ()))


def to_markdown(df: pd.DataFrame, notes: Sequence[str] | None = None) -> str:
    """A pipe table (GitHub Markdown), columns padded to equal width, numbers right-aligned; ``notes``
    (default: ``table_notes``) follow as a list. ``|`` in a cell is escaped and line breaks become
    spaces, so no cell can break the table."""
    def clean(text: str) -> str:
        return " ".join(text.split("\n")).replace("|", "\\|")

    header = [clean(str(c)) for c in df.columns]
    body = [[clean(cell) for cell in row] for row in _cells(df)]
    right = numeric_columns(df)
    widths = [max([3, len(header[j]), *(len(row[j]) for row in body)]) for j in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join("-" * (w - 1) + ":" if r else "-" * w for w, r in zip(widths, right)) + " |"
    lines = [line(header), rule, *(line(row) for row in body)]
    notes = table_notes(df, notes)
    if notes:
        lines += ["", *(f"- {clean(note)}" for note in notes)]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (``_ % & # $ { } ~ ^ \\``; ``±`` as ``$\\pm$``)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(df: pd.DataFrame, notes: Sequence[str] | None = None) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``): text columns left, numbers right,
    ``\\toprule`` / ``\\midrule`` / ``\\bottomrule``; every cell escaped. ``notes`` (default:
    ``table_notes``) follow the tabular as small paragraphs, for a table environment's foot."""
    spec = "".join("r" if r else "l" for r in numeric_columns(df))
    lines = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(latex_escape(str(c)) for c in df.columns) + r" \\",
        "\\midrule",
        *(" & ".join(latex_escape(cell) for cell in row) + r" \\" for row in _cells(df)),
        "\\bottomrule",
        "\\end{tabular}",
    ]
    lines += [f"\\par\\noindent{{\\footnotesize {latex_escape(note)}}}" for note in table_notes(df, notes)]
    return "\n".join(lines) + "\n"


def to_rich(df: pd.DataFrame, title: str, notes: Sequence[str] | None = None) -> Table:
    """A ``rich.table.Table`` with ``title``, numbers right-justified, ``notes`` (default:
    ``table_notes``) as its caption."""
    table = Table(title=title, caption="\n".join(table_notes(df, notes)) or None, caption_justify="left")
    for column, right in zip(df.columns, numeric_columns(df)):
        table.add_column(str(column), justify="right" if right else "left")
    for row in _cells(df):
        table.add_row(*row)
    return table


def to_html(df: pd.DataFrame, notes: Sequence[str] | None = None) -> str:
    """An HTML ``<table>`` (every cell escaped, numbers right-aligned) and its ``notes`` as a list."""
    from html import escape

    right = numeric_columns(df)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f'<td class="{"num" if right[j] else "text"}">{escape(cell)}</td>' for j, cell in enumerate(row)) + "</tr>"
        for row in _cells(df)
    )
    shown = table_notes(df, notes)
    foot = "<ul class=\"notes\">" + "".join(f"<li>{escape(n)}</li>" for n in shown) + "</ul>" if shown else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{foot}"
