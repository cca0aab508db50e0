"""Demonstration selection: seeded, reproducible, never the query itself; retrieval orders and caches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from flamingo_eval.data.example import Example, MediaRef
from flamingo_eval.errors import SpecError
from flamingo_eval.model.vision import build_vision_encoder
from flamingo_eval.prompting.retrieval import ImageEmbedder, TextEmbedder
from flamingo_eval.prompting.selection import make_selector

POOL = [Example(id=f"q{i}", media=(), question=f"question {i}", target=str(i)) for i in range(50)]


def ids(examples):
    return [e.id for e in examples]


@pytest.mark.parametrize("strategy", ["random", "fixed"])
def test_choice_is_a_function_of_seed_trial_and_query(strategy):
    a = make_selector(strategy, POOL, seed=42, trial=0)
    b = make_selector(strategy, POOL, seed=42, trial=0)
    queries = POOL[:10]
    first = [ids(a.select(q, 4)) for q in queries]
    # another selector, queries in reverse order: the same choices (no hidden RNG state)
    again = [ids(b.select(q, 4)) for q in reversed(queries)][::-1]
    assert first == again
    assert all(len(set(c)) == 4 for c in first)
    other_trial = [ids(make_selector(strategy, POOL, seed=42, trial=1).select(q, 4)) for q in queries]
    assert other_trial != first


def test_random_draws_a_fresh_sample_for_each_query_and_never_the_query():
    sel = make_selector("random", POOL, seed=0, trial=0)
    choices = [ids(sel.select(q, 8)) for q in POOL]
    assert len({tuple(c) for c in choices}) > 40  # fresh per query
    for q, c in zip(POOL, choices):
        assert q.id not in c
    # k = pool size - 1: everything but the query
    assert sorted(ids(sel.select(POOL[3], 49))) == sorted(e.id for e in POOL if e.id != "q3")
    with pytest.raises(SpecError, match="50 demonstrations wanted for query q3 but the pool offers only 49"):
        sel.select(POOL[3], 50)


def test_fixed_is_the_same_for_every_query_but_never_the_query():
    sel = make_selector("fixed", POOL, seed=7, trial=0)
    outside = Example(id="new", media=())
    demos = ids(sel.select(outside, 4))
    for q in POOL:
        chosen = ids(sel.select(q, 4))
        assert q.id not in chosen
        if q.id not in demos:
            assert chosen == demos
        else:  # the query was in the set: the others keep their order, the next in line fills in
            assert [d for d in demos if d != q.id] == chosen[:3] and chosen[3] not in demos


def test_query_set_size_restricts_the_candidates():
    sel = make_selector("random", POOL, seed=1, trial=0, query_set_size=10)
    seen = {d for q in POOL for d in ids(sel.select(q, 3))}
    assert len(seen) <= 10
    assert seen == {d for q in POOL for d in ids(make_selector("random", POOL, seed=1, trial=0, query_set_size=10).select(q, 3))}


def test_similarity_puts_the_most_similar_last():
    import math

    def unit(degrees: float) -> torch.Tensor:
        return torch.tensor([math.cos(math.radians(degrees)), math.sin(math.radians(degrees))])

    angles = {f"q{i}": 10.0 * i for i in range(6)}  # pool item qi points at 10*i degrees

    def embedder(examples):
        return torch.stack([unit(angles.get(e.id, 22.0)) for e in examples])  # other queries: 22 degrees

    pool = [Example(id=f"q{i}", media=()) for i in range(6)]
    sel = make_selector("rices", pool, seed=0, trial=0, embedder=embedder)
    # from 22 degrees: q2 is 2 away, q3 8, q1 12, q4 18 -> the three nearest, most similar last
    assert ids(sel.select(Example(id="x", media=()), 3)) == ["q1", "q3", "q2"]
    # a query from the pool itself is never its own demonstration
    assert set(ids(sel.select(pool[2], 2))) == {"q1", "q3"}
    assert "q2" not in ids(sel.select(pool[2], 5))


def _write_images(folder: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        base = rng.integers(0, 256, 3)
        noise = rng.integers(-20, 20, (32, 32, 3))
        paths.append(folder / f"img{i}.jpg")
        Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(paths[-1], quality=95)
    return paths


def test_rices_with_a_real_encoder_reuses_its_disk_cache(tmp_path):
    torch.manual_seed(0)
    encoder = build_vision_encoder("tiny_vit", {}, None)
    images = _write_images(tmp_path, 8)
    pool = [Example(id=str(i), media=(MediaRef(p),)) for i, p in enumerate(images)]
    cache = tmp_path / "cache"
    first = ImageEmbedder(encoder, cache_dir=cache)
    sel = make_selector("rices", pool, seed=0, trial=0, embedder=first)
    query = Example(id="query", media=(MediaRef(images[5]),))  # the same picture as pool item 5
    chosen = ids(sel.select(query, 3))
    assert chosen[-1] == "5"  # identical content is the most similar, placed last
    assert first.computed == 8  # the query's image was already known by content
    second = ImageEmbedder(encoder, cache_dir=cache)
    again = make_selector("rices", pool, seed=0, trial=0, embedder=second)
    assert ids(again.select(query, 3)) == chosen
    assert second.computed == 0  # everything came from the disk cache
    # a copy of an image under another name has the same content key
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(images[2].read_bytes())
    assert second.key(Example(id="c", media=(MediaRef(copy),))) == second.key(pool[2])


def test_text_selection_finds_the_closest_question(tmp_path):
    questions = ["How many cars are on the road?", "What colour is the kitten?", "Is it raining?", "What sport is this?"]
    pool = [Example(id=str(i), media=(), question=q) for i, q in enumerate(questions)]
    embedder = TextEmbedder(cache_dir=tmp_path)
    sel = make_selector("text", pool, seed=0, trial=0, embedder=embedder)
    chosen = ids(sel.select(Example(id="x", media=(), question="What color is the cat?"), 2))
    assert chosen[-1] == "1"
    assert "1" not in ids(sel.select(pool[1], 3))  # a pool question is never its own demonstration
    assert TextEmbedder(cache_dir=tmp_path)(pool).shape == (4, 384)


def test_choices_are_the_same_in_another_process():
    """No dependence on Python's per-process string hashing: another interpreter picks the same."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json\n"
        "from flamingo_eval.data.example import Example\n"
        "from flamingo_eval.prompting.selection import make_selector\n"
        "pool = [Example(id=f'q{i}', media=()) for i in range(50)]\n"
        "out = {s: [[e.id for e in make_selector(s, pool, seed=42, trial=2, query_set_size=20).select(q, 4)]"
        " for q in pool[:5]] for s in ('random', 'fixed')}\n"
        "print(json.dumps(out))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    other = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    here = {s: [ids(make_selector(s, POOL, seed=42, trial=2, query_set_size=20).select(q, 4)) for q in POOL[:5]] for s in ("random", "fixed")}
    assert other == here
