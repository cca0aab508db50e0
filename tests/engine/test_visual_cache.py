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


def _many_files(tmp_path, count):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    paths = []
    for i in range(count):
        path = tmp_path / f"many{i}.png"
        Image.fromarray(rng.integers(0, 256, (24, 28, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_warm_decodes_ahead_on_threads_and_encodes_what_a_direct_encoding_gives(pipe, tmp_path):
    import threading

    paths = _many_files(tmp_path, 7)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    threads = set()

    def load(ref, video):
        threads.add(threading.current_thread().name)
        return load_media_for(ref, video)

    one = pipe.spec.perceiver.num_latents * pipe.model.vision.dim * 4
    cache = VisualTokenCache(pipe, load, workers=3, max_bytes=3 * one)  # evicts while the next chunk is in flight
    refs = [MediaRef(p) for p in paths[:4]] + [MediaRef(tmp_path / "broken.png")] + [MediaRef(p) for p in paths[4:]]
    cache.warm(refs, VIDEO, chunk=2)
    assert threads and all(name.startswith("media") for name in threads)  # decoded off the main thread
    assert set(cache.failures) == {cache.key(refs[4], VIDEO)}  # the bad file is named, the others encoded
    assert "broken.png" in str(cache.problem(refs[4], VIDEO))
    direct = pipe.model.encode_media([pipe.pixels(load_media_for(MediaRef(p), VIDEO)) for p in paths])
    got = VisualTokenCache(pipe, load_media_for, workers=2).get([MediaRef(p) for p in paths], VIDEO)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(got, direct))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(cache.get([MediaRef(p) for p in paths[-3:]], VIDEO), direct[-3:]))


def test_an_item_of_the_chunk_in_flight_is_not_evicted_by_the_one_before(pipe, tmp_path):
    """warm starts chunk 2 (whose p0 is cached, so not re-encoded) before chunk 1 is encoded; encoding
    chunk 1 goes over the byte bound and must evict something other than p0."""
    paths = _many_files(tmp_path, 5)
    one = pipe.spec.perceiver.num_latents * pipe.model.vision.dim * 4
    cache = VisualTokenCache(pipe, load_media_for, max_bytes=2 * one, workers=2)
    cache.get([MediaRef(paths[0]), MediaRef(paths[1])], VIDEO)
    cache.warm([MediaRef(p) for p in (paths[2], paths[3], paths[0], paths[4])], VIDEO, chunk=2)
    assert not cache.failures and cache.encoded == 5
