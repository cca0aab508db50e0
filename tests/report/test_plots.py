"""The shot-scaling plot: a valid PNG of the documented size, the same bytes for the same data."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from flamingo_eval.report import figure_pixels, load_rows, paper_rows, shot_scaling_plot, summarize

from .fixtures import PRIMARY

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_is_a_png_of_the_expected_size(results_folder: Path, tmp_path: Path) -> None:
    summary = summarize(load_rows([results_folder])[1])
    first = shot_scaling_plot(summary, PRIMARY, tmp_path / "a.png")
    data = first.read_bytes()
    assert _png_size(data) == figure_pixels(2) == (800, 320)
    # Deterministic: drawing again (with published markers this time, then without) gives equal bytes.
    paper = paper_rows(PRIMARY, [0, 4], ["Flamingo-80B"])
    with_paper = shot_scaling_plot(summary, PRIMARY, tmp_path / "b.png", paper=paper)
    assert _png_size(with_paper.read_bytes()) == (800, 320) and with_paper.read_bytes() != data
    assert shot_scaling_plot(summary, PRIMARY, tmp_path / "c.png").read_bytes() == data
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["a.png", "b.png", "c.png"]


def test_chance_levels_are_drawn_from_the_specs_in_run_json(tmp_path: Path) -> None:
    from flamingo_eval.report import build_report

    from .fixtures import fixture_rows, run_json, write_folder

    run = run_json()
    run["identity"] = {"benchmarks": {"vqav2": {"name": "vqav2", "chance": 0.5}, "coco": {"name": "coco"}}}
    folder = write_folder(tmp_path / "run", fixture_rows(), run)
    report = build_report([folder])
    assert report.chance == {"vqav2": 0.5}
    plain = shot_scaling_plot(report.summary, PRIMARY, tmp_path / "plain.png").read_bytes()
    dashed = shot_scaling_plot(report.summary, PRIMARY, tmp_path / "dashed.png", chance=report.chance).read_bytes()
    assert _png_size(dashed) == _png_size(plain) and dashed != plain


def test_layout_sizes() -> None:
    assert figure_pixels(1) == (400, 320)
    assert figure_pixels(5) == (1600, 640)  # 4 panels a row


def test_nothing_to_plot(results_folder: Path, tmp_path: Path) -> None:
    summary = summarize(load_rows([results_folder])[1])
    with pytest.raises(ValueError, match="no rows of a primary metric"):
        shot_scaling_plot(summary, {"coco": "SPICE"}, tmp_path / "x.png")
