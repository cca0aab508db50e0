"""The visual-token cache: keyed by content, bounded in bytes, kept on disk between runs."""

from __future__ import annotations

import shutil

import pytest
import torch

from flamingo_eval.benchmark import VideoSpec
from flamingo_eval.data.example import MediaRef
from flamingo_eval.engine.visual_cache import load_media_for
from flamingo_eval.engine.visual_cache import VisualTokenCache
from flamingo_eval.errors import MediaError
from flamingo_eval.model import load_model

from ..conftest import tiny_spec

VIDEO = VideoSpec()


@pytest.fixture(scope="module")
def pipe():
    return load_model(tiny_spec())


@pytest.fixture
def files(tmp_path, noise_images):
    paths = []
    for i, image in enumerate(noise_images[:3]):
        path = tmp_path / f"img{i}.png"
        image.save(path)
        paths.append(path)
    shutil.copy(paths[0], tmp_path / "copy_of_0.png")
    return paths + [tmp_path / "copy_of_0.png"]


def test_same_content_is_encoded_once_and_tokens_match_a_direct_encoding(pipe, files):
    cache = VisualTokenCache(pipe, load_media_for)
    refs = [MediaRef(p) for p in files]
    tokens = cache.get(refs, VIDEO)
    assert cache.encoded == 3  # the copy has the same content as the first file
    assert torch.equal(tokens[0], tokens[3])
    direct = pipe.model.encode_media([pipe.pixels(load_media_for(refs[1], VIDEO))])[0]
    assert torch.allclose(tokens[1], direct, atol=1e-5)
    cache.get(refs[:2], VIDEO)
    assert cache.encoded == 3


def test_byte_bound_evicts_the_least_recently_used(pipe, files):
    one = pipe.spec.perceiver.num_latents * pipe.model.vision.dim * 4  # float32 bytes of one item
    cache = VisualTokenCache(pipe, load_media_for, max_bytes=2 * one)
    for path in files[:3]:
        cache.get([MediaRef(path)], VIDEO)
    assert len(cache.tokens) == 2 and cache.bytes == 2 * one
    cache.get([MediaRef(files[0])], VIDEO)  # evicted: encoded again
    assert cache.encoded == 4


def test_disk_cache_serves_a_second_run(pipe, files, tmp_path):
    first = VisualTokenCache(pipe, load_media_for, directory=tmp_path / "vc")
    a = first.get([MediaRef(p) for p in files[:3]], VIDEO)
    second = VisualTokenCache(pipe, load_media_for, directory=tmp_path / "vc")
    b = second.get([MediaRef(p) for p in files[:3]], VIDEO)
    assert second.encoded == 0
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_a_missing_file_is_named(pipe, tmp_path):
    with pytest.raises(MediaError, match="nope.png"):
        VisualTokenCache(pipe, load_media_for).get([MediaRef(tmp_path / "nope.png")], VIDEO)
