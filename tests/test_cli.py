"""The command line: commands run, and user mistakes give one clear line and a non-zero exit."""

from __future__ import annotations

from typer.testing import CliRunner

from flamingo_eval.cli import app

runner = CliRunner()


def test_models_lists_the_builtin_specs():
    result = runner.invoke(app, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("tiny", "smol", "openflamingo-9b"):
        assert name in result.output


def test_generate_with_the_tiny_model_and_the_bundled_image():
    result = runner.invoke(app, ["generate", "--model", "tiny", "--max-new-tokens", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<image>This photo shows")


def test_a_user_mistake_is_one_line_without_traceback(tmp_path):
    result = runner.invoke(app, ["generate", "--model", "no-such-model"])
    assert result.exit_code == 1
    assert "error: no model spec 'no-such-model'" in result.output and "Traceback" not in result.output
    missing = tmp_path / "gone.jpg"
    result = runner.invoke(app, ["generate", "--model", "tiny", "--image", str(missing)])
    assert result.exit_code == 1 and "gone.jpg" in result.output
    result = runner.invoke(app, ["generate", "--model", "tiny", "--prompt", "<image><image>two"])
    assert result.exit_code != 0 and "2 <image> markers but 1 images" in result.output
