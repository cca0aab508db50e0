"""write_report / rich_tables over results folders."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from flamingo_eval.report import build_report, rich_tables, write_report


def test_write_report_files(results_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    paths = write_report([results_folder], out)
    names = [p.name for p in paths]
    assert names == [f"report_{t}.{e}" for t in ("shots", "models", "deltas") for e in ("md", "csv", "tex")] + [
        "report_shot_scaling.png"]
    assert all(p.is_file() for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # nothing else (no temporary files)
    shots_md = (out / "report_shots.md").read_text()
    assert "| 84.0 ± 4.0 |" in shots_md and "(paper)" not in shots_md
    assert (out / "report_deltas.csv").read_text().splitlines()[0] == "model,shots,variant,coco (CIDEr),vqav2 (vqa_accuracy)"
    assert "\\toprule" in (out / "report_models.tex").read_text()


def test_no_deltas_for_one_variant(baseline_only_folder: Path, tmp_path: Path) -> None:
    names = [p.name for p in write_report([baseline_only_folder], tmp_path / "r")]
    assert not any("deltas" in n for n in names)


def test_paper_rows_in_the_shots_table(results_folder: Path) -> None:
    report = build_report([results_folder], paper=True, paper_models=["Flamingo-80B", "OpenFlamingo-9B"])
    shots = report.tables[0].frame
    paper = shots[shots.model.str.endswith("(paper)")]
    assert paper[["model", "benchmark", "0-shot", "4-shot"]].values.tolist() == [
        ["Flamingo-80B (paper)", "coco", "84.3", "103.2"],
        ["Flamingo-80B (paper)", "vqav2", "56.3", "63.1"],
        ["OpenFlamingo-9B (paper)", "coco", "79.5 ± 0.2", "89.0 ± 0.3"],
        ["OpenFlamingo-9B (paper)", "vqav2", "52.7 ± 0.2", "54.8 ± 0.0"],
    ]
    assert any("VQAv2 test-dev" in note for note in report.tables[0].notes)


def test_rich_tables(results_folder: Path) -> None:
    tables = rich_tables([results_folder])
    assert [t.title for t in tables] == ["Primary metric by number of shots", "Models and variants by benchmark",
                                        "Variants against the baseline (baseline)"]
    assert all(isinstance(t, Table) for t in tables)


def test_two_folders_with_the_same_variants(tmp_path: Path) -> None:
    from .fixtures import fixture_rows, run_json, write_folder

    a = write_folder(tmp_path / "a", fixture_rows(), run_json())
    b = write_folder(tmp_path / "b", fixture_rows(), run_json())
    report = build_report([a, b])
    assert report.baseline == "a:baseline"
    deltas = report.tables[2].frame
    assert deltas[deltas.shots == 0]["variant"].tolist() == ["a:baseline", "a:prompt-b", "b:baseline", "b:prompt-b"]
    assert deltas[(deltas.shots == 0) & (deltas.variant == "b:prompt-b")]["coco (CIDEr)"].item() == "+2.0"
    assert any("RUN:VARIANT" in note for note in report.tables[0].notes)


def test_report_tables_carry_their_notes(results_folder: Path) -> None:
    from flamingo_eval.report import report_tables, to_markdown, to_rich

    pairs = report_tables([results_folder], paper=True)
    title, frame = pairs[0]
    assert title == "Primary metric by number of shots"
    assert any("Table 11" in note for note in frame.attrs["notes"])
    assert "Table 11" in to_markdown(frame) and "Table 11" in to_rich(frame, title).caption
