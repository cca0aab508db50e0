"""Caches are derived data: a damaged cache file (cut off, garbage, empty, non-finite values) or a cache
folder that cannot be written is named once in a CacheWarning and worked around (the entries computed
again), never a traceback. The embedding cache itself, and the two caches built on it: the trainer's
frozen features and the visual-token cache."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from flamingo_eval.benchmark import VideoSpec
from flamingo_eval.data.example import MediaRef
from flamingo_eval.data.media import load_media
from flamingo_eval.engine.visual_cache import VisualTokenCache
from flamingo_eval.errors import CacheWarning, MediaError
from flamingo_eval.model import load_model
from flamingo_eval.storage import EmbeddingCache, file_digest
from flamingo_eval.train.features import FeatureStore

from ..conftest import tiny_spec
from ..data.fixtures import write_jpeg
from .cases import DAMAGE, file_error



def _shard(folder: Path) -> Path:
    [shard] = sorted(folder.rglob("*.safetensors"))
    return shard


def _reopen_warns(make, shard: Path):
    """``make()`` (a cache over the damaged folder) warns once, naming the shard, and removes it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache = make()
    named = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(named) == 1 and str(shard) in str(named[0].message), [str(w.message) for w in caught]
    assert not shard.exists()
    return cache


@pytest.mark.parametrize("damage", [*DAMAGE, "nan", "inf"])
def test_damaged_embedding_shard_is_recomputed(tmp_path, damage) -> None:
    cache = EmbeddingCache(tmp_path, "fp")
    cache.put("a", torch.ones(3))
    cache.put("b", torch.zeros(3))
    cache.flush()
    shard = _shard(tmp_path)
    if damage in DAMAGE:
        shard.write_bytes(DAMAGE[damage](shard.read_bytes()))
    else:
        save_file({"a": torch.tensor([1.0, float(damage), 0.0]), "b": torch.zeros(3)}, str(shard))
    reopened = _reopen_warns(lambda: EmbeddingCache(tmp_path, "fp"), shard)
    assert "a" not in reopened and "b" not in reopened  # computed again by whoever asks
    reopened.put("a", torch.ones(3))
    reopened.flush()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten cache is clean
        assert torch.equal(EmbeddingCache(tmp_path, "fp")["a"], torch.ones(3))


def test_unwritable_cache_folder_goes_on_in_memory(tmp_path) -> None:
    (tmp_path / "fp").write_text("a file where the cache folder should be")
    cache = EmbeddingCache(tmp_path, "fp")
    cache.put("a", torch.ones(3))
    with pytest.warns(CacheWarning, match=f"{tmp_path / 'fp'}: cannot write the cache"):
        cache.flush()
    assert torch.equal(cache["a"], torch.ones(3))
    cache.put("b", torch.ones(3))
    cache.flush()  # no second warning: the disk copy is off


def test_file_digest_names_an_unreadable_file(tmp_path) -> None:
    file_error(lambda: file_digest(tmp_path / "gone.jpg"), tmp_path / "gone.jpg", MediaError)
    file_error(lambda: file_digest(tmp_path), tmp_path, MediaError)


@pytest.fixture(scope="module")
def tiny():
    return load_model(tiny_spec())


@pytest.fixture
def images(tmp_path) -> list[MediaRef]:
    return [MediaRef(write_jpeg(tmp_path / f"img{i}.jpg", i)) for i in range(2)]


@pytest.mark.parametrize("damage", ["cut-half", "garbage"])
def test_damaged_feature_cache_is_recomputed(tiny, images, tmp_path, damage) -> None:
    """The trainer's frozen-feature cache: the same features as before the damage."""
    store = FeatureStore(tiny.model, tiny.transform, max_frames=4, cache_dir=tmp_path / "features")
    store.precompute(images)
    before = [store[ref].clone() for ref in images]
    shard = _shard(tmp_path / "features")
    shard.write_bytes(DAMAGE[damage](shard.read_bytes()))
    again = _reopen_warns(lambda: FeatureStore(tiny.model, tiny.transform, max_frames=4,
                                                cache_dir=tmp_path / "features"), shard)
    again.precompute(images)
    assert all(torch.equal(a, again[ref]) for a, ref in zip(before, images))


@pytest.mark.parametrize("damage", ["cut-half", "garbage"])
def test_damaged_visual_token_cache_is_recomputed(tiny, images, tmp_path, damage) -> None:
    video = VideoSpec()

    def load(ref, spec):
        return load_media(ref, fps=spec.fps, max_frames=spec.max_frames)

    first = VisualTokenCache(tiny, load, directory=tmp_path / "tokens").get(images, video)
    shard = _shard(tmp_path / "tokens")
    shard.write_bytes(DAMAGE[damage](shard.read_bytes()))
    cache = _reopen_warns(lambda: VisualTokenCache(tiny, load, directory=tmp_path / "tokens"), shard)
    again = cache.get(images, video)
    assert cache.encoded == 2 and all(torch.equal(a, b) for a, b in zip(first, again))
