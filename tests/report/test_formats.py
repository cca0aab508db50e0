"""Markdown, LaTeX and rich output of a table; cell formatting."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from flamingo_eval.report import format_cell, format_delta, latex_escape, to_latex, to_markdown, to_rich


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"model": ["a_b|c", "50% & #1"], "0-shot": ["84.3 ± 1.2", "-"], "delta": ["+1.0", "-0.5"]})


def test_cells() -> None:
    assert format_cell(84.34, 1.25) == "84.3 ± 1.2"
    assert format_cell(84.0, float("nan")) == "84.0"
    assert format_cell(float("nan"), 1.0) == "-"
    assert format_cell(-0.01, 0.0) == "0.0 ± 0.0"
    assert format_delta(2.0) == "+2.0" and format_delta(-4.0) == "-4.0" and format_delta(-0.01) == "+0.0"


def test_markdown_structure_and_escaping() -> None:
    lines = to_markdown(_frame(), notes=["see | here"]).splitlines()
    assert lines[0].startswith("| model") and lines[0].endswith("|")
    assert lines[1] == "| -------- | ---------: | ----: |"  # numbers right-aligned
    assert "a_b\\|c" in lines[2]  # a pipe cannot split the cell
    assert len({len(line) for line in lines[:4]}) == 1  # padded columns
    assert lines[-2:] == ["", "- see \\| here"]
    assert all(line.count("|") - line.count("\\|") == 4 for line in lines[:4])


def test_latex_structure_and_escaping() -> None:
    tex = to_latex(_frame(), notes=["a_note"])
    lines = tex.splitlines()
    assert lines[0] == r"\begin{tabular}{lrr}"
    assert lines[1:4] == [r"\toprule", r"model & 0-shot & delta \\", r"\midrule"]
    assert lines[4] == r"a\_b|c & 84.3 $\pm$ 1.2 & +1.0 \\"
    assert lines[5] == r"50\% \& \#1 & - & -0.5 \\"
    assert lines[6:8] == [r"\bottomrule", r"\end{tabular}"]
    assert r"a\_note" in lines[8]
    assert latex_escape(r"{x}~^\ $") == r"\{x\}\textasciitilde{}\textasciicircum{}\textbackslash{} \$"


def test_rich_table() -> None:
    table = to_rich(_frame(), "Title", notes=["note"])
    assert isinstance(table, Table) and table.title == "Title" and table.caption == "note"
    assert [c.justify for c in table.columns] == ["left", "right", "right"]
    console = Console(width=80, record=True, file=open("/dev/null", "w"))
    console.print(table)
    assert "84.3 ± 1.2" in console.export_text()
