"""Model specs: built-ins parse, and every mistake in a spec is reported with its file and key."""

from __future__ import annotations

import pytest
import yaml

from flamingo_eval.errors import SpecError
from flamingo_eval.model import builtin_specs, get_spec, load_model
from flamingo_eval.spec_io import resolve_path


def test_builtin_specs_parse():
    names = set(builtin_specs())
    assert {"tiny", "smol", "openflamingo-3b", "openflamingo-4b", "openflamingo-9b"} <= names
    for name in names:
        spec = get_spec(name)
        assert spec.name == name
    nine = get_spec("openflamingo-9b")
    assert nine.xattn.every_n_layers == 4 and nine.vision.options["ln_post_on_tokens"] is False


def write(tmp_path, data, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.__setitem__("colour", "red"), r"spec.yaml: unknown key colour"),
        (lambda d: d["xattn"].__setitem__("every_n", 2), r"spec.yaml: unknown key xattn.every_n"),
        (lambda d: d["xattn"].__setitem__("attend", "first"), r"spec.yaml: xattn: xattn.attend must be one of"),
        (lambda d: d.pop("lm"), r"spec.yaml: missing key lm"),
        (lambda d: d.__setitem__("perceiver", [1, 2]), r"spec.yaml: perceiver: expected mapping \(PerceiverConfig\), got list \[1, 2\]"),
        (lambda d: d["perceiver"].__setitem__("depth", "2"), r"spec.yaml: perceiver.depth: expected int, got str '2'"),
        (lambda d: d["perceiver"].__setitem__("max_frames", 2.5), r"spec.yaml: perceiver.max_frames: expected int or None, got float 2.5"),
        (lambda d: d["lm"].__setitem__("config", "llama"), r"spec.yaml: lm.config: expected mapping or None, got str 'llama'"),
        (lambda d: d["xattn"].__setitem__("dense_without_media", 1), r"spec.yaml: xattn.dense_without_media: expected bool, got int 1"),
        (lambda d: d["xattn"].__setitem__("heads", 0), r"spec.yaml: xattn: xattn.heads must be >= 1, got 0"),
    ],
    ids=["top-level", "nested", "value", "missing", "type", "int-as-text", "float-for-int", "mapping", "int-for-bool", "range"],
)
def test_malformed_spec_names_file_and_key(tmp_path, change, message):
    data = yaml.safe_load(get_spec("tiny").source.read_text())
    change(data)
    with pytest.raises(SpecError, match=message):
        get_spec(write(tmp_path, data))


def test_paths_resolve_relative_env_and_package(tmp_path, monkeypatch):
    (tmp_path / "w.bin").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    spec_file = tmp_path / "sub" / "s.yaml"
    assert resolve_path("../w.bin", key="k", spec=spec_file) == tmp_path / "sub" / "../w.bin"
    monkeypatch.setenv("MY_WEIGHTS", str(tmp_path))
    assert resolve_path("${MY_WEIGHTS}/w.bin", key="k", spec=None) == tmp_path / "w.bin"
    assert resolve_path("pkg:flamingo_eval/model/specs/tiny.yaml", key="k", spec=None).is_file()
    monkeypatch.delenv("MY_WEIGHTS")
    with pytest.raises(SpecError, match=r"s.yaml: vision.weights uses \$MY_WEIGHTS, which is not set"):
        resolve_path("${MY_WEIGHTS}/w.bin", key="vision.weights", spec=spec_file)
    with pytest.raises(SpecError, match="needs the package no_such_pkg"):
        resolve_path("pkg:no_such_pkg/x", key="k", spec=None)


def test_openflamingo_spec_offline_without_the_files_says_what_to_download(monkeypatch, tmp_path):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SpecError, match=r"openflamingo-9b.yaml: vision.weights: hf:timm/.*not in the local Hub cache.*"
                                        r"huggingface-cli download timm/vit_large_patch14_clip_224.openai open_clip_pytorch_model.bin"):
        load_model("openflamingo-9b")


def test_unknown_model_name():
    with pytest.raises(SpecError, match="no model spec 'nope'"):
        get_spec("nope")
