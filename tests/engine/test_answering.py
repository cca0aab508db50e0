"""Length-sorted batches, token budgets and shared prompt starts: less work, the same predictions."""

from __future__ import annotations

from flamingo_eval.engine.answering import plan_batches, shared_prefix

from .helpers import COMMON, invoke, predictions

MEDIA, EOC = 900, 901


def test_batches_are_sorted_by_length_and_respect_count_and_budget():
    lengths = [5, 50, 7, 48, 6, 49, 100]
    assert plan_batches(lengths, batch_size=3) == [[6, 1, 5], [3, 2, 4], [0]]
    # budget 120 tokens: rows x longest prompt; the 100-token prompt goes alone, 50+49 fit, 48 starts anew
    batches = plan_batches(lengths, batch_size=8, token_budget=120)
    assert batches == [[6], [1, 5], [3, 2], [4, 0]]
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))  # nothing dropped
    assert plan_batches([300], batch_size=8, token_budget=10) == [[0]]  # too long for the budget: alone


def test_shared_prefix_cuts_after_a_chunk_and_before_differing_media():
    demo = [MEDIA, 1, 2, EOC, MEDIA, 3, EOC]
    rows = [demo + [MEDIA, 7, 8], demo + [MEDIA, 9]]
    assert shared_prefix(rows, [["a", "b", "q1"], ["a", "b", "q2"]], media_token=MEDIA, end_of_chunk=EOC) == len(demo)
    # the same text but a different second demonstration image: only the first chunk is shared
    assert shared_prefix(rows, [["a", "b", "q1"], ["a", "c", "q2"]], media_token=MEDIA, end_of_chunk=EOC) == 4
    # text that differs inside the first chunk: nothing is shared
    other = [[MEDIA, 1, 5, EOC, MEDIA, 9], demo + [MEDIA, 9]]
    assert shared_prefix(other, [["a", "b"], ["a", "b", "c"]], media_token=MEDIA, end_of_chunk=EOC) == 0
    # a row never loses its last token to the prefix
    assert shared_prefix([demo, demo], [["a", "b"], ["a", "b"]], media_token=MEDIA, end_of_chunk=EOC) == 4


def test_fixed_demonstrations_share_a_prefix_without_changing_predictions(data_root, tmp_path):
    fields = ("benchmark", "shots", "query_id", "demo_ids", "prompt", "raw_output", "prediction", "score")
    args = ["coco", "vqav2", *COMMON, "--shots", "0,2", "--selection", "fixed", "--data-root", str(data_root)]
    invoke("run", *args, "--out", str(tmp_path / "shared"), "--batch-size", "3")
    invoke("run", *args, "--out", str(tmp_path / "whole"), "--batch-size", "3", "--no-share-prefix", "--token-budget", "200")
    shared, whole = predictions(tmp_path / "shared"), predictions(tmp_path / "whole")
    assert [[r[f] for f in fields] for r in shared] == [[r[f] for f in fields] for r in whole]
    two_shot = [r for r in shared if r["shots"] == 2]
    assert two_shot and len({tuple(r["demo_ids"]) for r in two_shot if r["benchmark"] == "coco"}) == 1


def test_answerer_builds_a_shared_prefix_once_and_reuses_it(noise_images):
    import torch

    from flamingo_eval.engine.answering import Answerer
    from flamingo_eval.model import GenerationConfig, load_model

    from ..conftest import open_gates, tiny_spec

    pipe = load_model(tiny_spec())
    open_gates(pipe.model)
    with torch.inference_mode():
        tokens = pipe.model.encode_media([pipe.pixels(im) for im in noise_images])  # (6, n, d)
    demos = "<image>A red cube.<|endofchunk|><image>Two blue balls.<|endofchunk|>"
    batches = [["<image>Out", "<image>A"], ["<image>The", "<image>x y"]]
    config = GenerationConfig(max_new_tokens=6, num_beams=2)

    def answer(answerer):
        out = []
        for b, texts in enumerate(batches):
            rows = [answerer.token_ids(demos + t) for t in texts]
            media = [[tokens[0], tokens[1], tokens[2 + 2 * b + i]] for i in range(len(texts))]
            keys = [["d0", "d1", f"q{2 * b + i}"] for i in range(len(texts))]
            out += answerer.generate(rows, media, keys, config)
        return out

    shared = Answerer(pipe)
    assert answer(shared) == answer(Answerer(pipe, share_prefix=False))
    assert (shared.stats.prefixes_built, shared.stats.prefixes_reused) == (1, 1)
