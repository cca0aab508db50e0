"""Models from the Hugging Face Hub, without a network: a cache folder in the Hub's own layout
(``models--ORG--NAME/refs/main``, ``snapshots/<commit>/``) holding the tiny model's files resolves
offline; a file that is not there is an error saying what to download."""

from __future__ import annotations


import pytest
import torch
import yaml

from flamingo_eval.errors import SpecError
from flamingo_eval.hub import HubRef, download_command, hub_commit, parse_hub_ref
from flamingo_eval.model import load_model, save_adapters
from flamingo_eval.model.spec import get_spec

from ..conftest import LM_CONFIGS, open_gates

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An offline Hub cache with ``org/tiny-flamingo``: its own spec, an LM folder and adapters."""
    import huggingface_hub

    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    repo = cache / "models--org--tiny-flamingo"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    spec = {"name": "tiny-from-hub", "vision": {"kind": "tiny_vit"},
            "lm": {"config": LM_CONFIGS["llama"], "tokenizer": "bytes"},
            "perceiver": {"depth": 2, "heads": 2, "dim_head": 16, "num_latents": 8, "max_frames": 4},
            "xattn": {"every_n_layers": 2, "heads": 2, "dim_head": 16, "ff_mult": 2}, "seed": 0}
    source = load_model(_write_spec(tmp_path / "local.yaml", spec))
    open_gates(source.model)
    save_adapters(source.model, source.tokens.added, snapshot / "adapters.safetensors")
    source.model.lm.save_pretrained(snapshot / "lm")
    hub_spec = dict(spec, lm={"path": "lm", "tokenizer": "bytes"}, adapters="adapters.safetensors")
    _write_spec(snapshot / "flamingo_eval.yaml", hub_spec)
    return source, snapshot


def _write_spec(path, data):
    path.write_text(yaml.safe_dump(data))
    return path


def _logits(pipe, image):
    ids, mask = pipe.encode_prompts(["<image>Output: a"])
    with torch.inference_mode():
        return pipe.model(ids, media=pipe.embed([[image]]), attention_mask=mask).logits


def test_a_repository_with_its_own_spec_loads_offline(hub_cache, noise_images):
    source, snapshot = hub_cache
    pipe = load_model("hf:org/tiny-flamingo")
    assert pipe.spec.source == snapshot / "flamingo_eval.yaml"
    assert torch.allclose(_logits(pipe, noise_images[0]), _logits(source, noise_images[0]))  # the same weights
    pinned = load_model(f"hf:org/tiny-flamingo@{COMMIT}")
    assert pinned.spec.name == "tiny-from-hub"


def test_a_spec_file_may_point_into_the_hub(hub_cache, tmp_path):
    _, snapshot = hub_cache
    local = _write_spec(tmp_path / "mine.yaml", {
        "name": "mine", "vision": {"kind": "tiny_vit"}, "lm": {"path": "hf:org/tiny-flamingo/lm", "tokenizer": "bytes"},
        "perceiver": {"depth": 2, "heads": 2, "dim_head": 16, "num_latents": 8, "max_frames": 4},
        "xattn": {"every_n_layers": 2, "heads": 2, "dim_head": 16, "ff_mult": 2},
        "adapters": "hf:org/tiny-flamingo/adapters.safetensors"})
    pipe = load_model(local)
    assert pipe.model.xattn["1"].attn_gate.item() != 0
    from flamingo_eval.engine.provenance import model_files

    files = model_files(pipe.spec)
    assert files["hub_commits"] == {"lm.path": COMMIT, "adapters": COMMIT}  # what run.json records


def test_a_missing_file_says_what_to_download(hub_cache, tmp_path):
    local = _write_spec(tmp_path / "mine.yaml", {
        "name": "mine", "vision": {"kind": "tiny_vit"}, "lm": {"config": LM_CONFIGS["llama"], "tokenizer": "bytes"},
        "adapters": "hf:org/tiny-flamingo/missing.safetensors"})
    with pytest.raises(SpecError, match=r"mine.yaml: adapters: hf:org/tiny-flamingo/missing.safetensors: missing.safetensors "
                                        r"of org/tiny-flamingo is not in the local Hub cache .*HF_HUB_OFFLINE is set.*"
                                        r"huggingface-cli download org/tiny-flamingo missing.safetensors"):
        load_model(local)
    with pytest.raises(SpecError, match="huggingface-cli download org/other"):
        load_model("hf:org/other")


def test_openflamingo_releases_resolve_to_their_built_in_specs():
    spec = get_spec("hf:openflamingo/OpenFlamingo-9B-vitl-mpt7b")
    assert spec.name == "openflamingo-9b" and spec.openflamingo_checkpoint == "hf:openflamingo/OpenFlamingo-9B-vitl-mpt7b/checkpoint.pt"
    assert get_spec("hf:openflamingo/OpenFlamingo-3B-vitl-mpt1b").lm.path == "hf:anas-awadalla/mpt-1b-redpajama-200b"


def test_references():
    assert parse_hub_ref("hf:org/name") == HubRef("org/name")
    assert parse_hub_ref("hf:org/name@v1.0/sub/file.pt") == HubRef("org/name", "v1.0", "sub/file.pt")
    assert str(parse_hub_ref("hf:org/name@abc/x.bin")) == "hf:org/name@abc/x.bin"
    assert download_command(HubRef("org/name", "abc", "x.bin")) == "huggingface-cli download org/name x.bin --revision abc"
    for bad in ("hf:org", "hf:/name", "hf:org/@rev"):
        with pytest.raises(SpecError, match="hf:ORG/NAME"):
            parse_hub_ref(bad)
    assert hub_commit(f"/c/hub/models--o--n/snapshots/{COMMIT}/a/b.bin") == COMMIT and hub_commit("/elsewhere/b.bin") is None


def test_a_benchmark_reads_a_hub_dataset_offline(tmp_path, monkeypatch):
    """``--data-root hf:datasets/ORG/NAME``: the benchmark's folder inside the dataset repository's snapshot."""
    import huggingface_hub

    from flamingo_eval.api import evaluate

    from ..engine.fixture_data import write_data_root

    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    repo = cache / "datasets--org--eval-data"
    write_data_root(repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    evaluate(["vqav2"], out=tmp_path / "run", model="tiny", shots=(0,), limit=2, data_root="hf:datasets/org/eval-data")
    assert len((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()) == 2
    assert parse_hub_ref("hf:datasets/org/d@v2/x.json") == HubRef("org/d", "v2", "x.json", "dataset")
    assert download_command(parse_hub_ref("hf:datasets/org/d")) == "huggingface-cli download org/d --repo-type dataset"
    with pytest.raises(SpecError, match="huggingface-cli download org/absent --repo-type dataset"):
        evaluate(["vqav2"], out=tmp_path / "run2", model="tiny", shots=(0,), data_root="hf:datasets/org/absent")
