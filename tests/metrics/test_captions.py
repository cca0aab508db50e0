"""Caption metrics through pycocoevalcap on a four-image corpus whose BLEU and ROUGE-L values are worked out
by hand. Java runs are slow (METEOR's start-up is several seconds): one full evaluation is shared by the
module, plus one CIDEr-only run."""

from __future__ import annotations

import math

import pytest
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from flamingo_eval.metrics import caption_scores, cider_per_example, evaluate_captions, spice_status
from flamingo_eval.metrics import captions as captions_module

# "\r" in a prediction and "\x0b" in a reference end a line for Java's reader: unless they are turned
# into spaces, every later caption would be paired with the wrong id and the hand values below would fail.
PREDICTIONS = {
    "same": "A man rides\ra horse.",  # tokenized: "a man rides a horse" (lower-cased, "." dropped)
    "disjoint": "purple elephants juggle",
    "empty": "",
    "partial": "a cat on a sofa",
}
REFERENCES = {
    "same": ["a man rides a horse", "a person on a\x0bhorse"],
    "disjoint": ["two dogs play in the snow", "dogs playing in snow"],
    "empty": ["a red bus on a street", "a bus parked by the road"],
    "partial": ["a cat sleeping on a sofa", "a grey cat on the couch"],
}


@pytest.fixture(scope="module")
def evaluation():
    """One evaluate_captions run, counting PTB tokenizer calls while it runs."""
    calls = []
    original = PTBTokenizer.tokenize

    def counting(self, captions_for_image):
        calls.append(len(captions_for_image))
        return original(self, captions_for_image)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PTBTokenizer, "tokenize", counting)
        result = evaluate_captions(PREDICTIONS, REFERENCES)
    return result, calls


def test_tokenizer_runs_once(evaluation) -> None:
    _, calls = evaluation
    assert calls == [8]  # one run over 4 predictions + 4 reference lists


def test_keys_and_scale(evaluation) -> None:
    result, _ = evaluation
    expected = {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"}
    assert set(result.scores) - {"SPICE"} == expected
    assert all(isinstance(v, float) for v in result.scores.values())
    assert list(result.per_example) == list(PREDICTIONS)
    # CIDEr is on pycocoevalcap's 0..10 scale (not x100): above 1 here, below 10
    assert 1.0 < result.scores["CIDEr"] < 10.0


def test_corpus_bleu_by_hand(evaluation) -> None:
    # Per image: test length, closest reference length, clipped unigram / bigram matches over guesses.
    #   same:     5 tokens, ref len 5; unigrams 5/5, bigrams 4/4
    #   disjoint: 3 tokens, ref lens 6,4 -> closest 4; 0/3, 0/2
    #   empty:    0 tokens, ref lens 6,6 -> 6; 0/0, 0/0
    #   partial:  5 tokens, ref lens 6,6 -> 6; unigrams 5/5 ("a" twice, ref 1 has two); bigrams 4/4
    #             ("a cat", "on a", "a sofa" in ref 1, "cat on" in ref 2)
    # Pooled: p1 = 10/13, p2 = 8/10; lengths 13 vs 21 -> brevity penalty exp(1 - 21/13).
    bp = math.exp(1 - 21 / 13)
    result, _ = evaluation
    assert result.scores["Bleu_1"] == pytest.approx(10 / 13 * bp, rel=1e-6)
    assert result.scores["Bleu_2"] == pytest.approx(math.sqrt(10 / 13 * 8 / 10) * bp, rel=1e-6)


def test_identical_prediction(evaluation) -> None:
    same = evaluation[0].per_example["same"]
    assert same["Bleu_4"] == pytest.approx(1.0, abs=1e-6)  # every n-gram found, length equal to a reference
    assert same["ROUGE_L"] == 1.0
    assert same["METEOR"] == pytest.approx(1.0)
    assert same["CIDEr"] > evaluation[0].per_example["partial"]["CIDEr"] > 0.0


def test_disjoint_prediction(evaluation) -> None:
    disjoint = evaluation[0].per_example["disjoint"]
    # BLEU's smoothing constants leave ~1e-16 instead of an exact 0
    assert all(disjoint[k] < 1e-9 for k in ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"))
    assert disjoint["CIDEr"] == 0.0 and disjoint["ROUGE_L"] == 0.0 and disjoint["METEOR"] == 0.0


def test_rouge_by_hand(evaluation) -> None:
    # "a cat on a sofa" vs "a cat sleeping on a sofa": LCS 5 -> P 1, R 5/6; vs "a grey cat on the couch":
    # LCS 3 -> P 3/5, R 1/2. Max P = 1, max R = 5/6; F with beta 1.2: (1 + b^2) P R / (R + b^2 P).
    p, r, b2 = 1.0, 5 / 6, 1.2**2
    result, _ = evaluation
    assert result.per_example["partial"]["ROUGE_L"] == pytest.approx((1 + b2) * p * r / (r + b2 * p))
    means = sum(e["ROUGE_L"] for e in result.per_example.values()) / 4
    assert result.scores["ROUGE_L"] == pytest.approx(means)


def test_empty_prediction_scores_zero_and_is_noted(evaluation) -> None:
    result, _ = evaluation
    assert all(v == 0.0 for v in result.per_example["empty"].values())
    assert any("empty" in note and "'empty'" in note for note in result.notes)


def test_per_example_cider_mean_is_corpus_cider(evaluation) -> None:
    result, _ = evaluation
    per = cider_per_example(PREDICTIONS, REFERENCES)
    assert per == pytest.approx({k: v["CIDEr"] for k, v in result.per_example.items()})
    assert sum(per.values()) / len(per) == pytest.approx(result.scores["CIDEr"])


def test_spice_absent_is_noted(evaluation) -> None:
    available, why = spice_status()
    result, _ = evaluation
    if available:
        pytest.skip("SPICE jars are installed here")
    assert "SPICE" not in result.scores
    assert why in result.notes and "stanford-corenlp-3.6.0" in why


def test_spice_required_but_absent(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(captions_module, "_SPICE_LIB", tmp_path)
    with pytest.raises(RuntimeError, match="SPICE omitted"):
        caption_scores({"a": "x"}, {"a": ["x"]}, spice=True)  # raised before any Java runs


def test_spice_status_sees_jars(monkeypatch, tmp_path) -> None:
    for name in ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr(captions_module, "_SPICE_LIB", tmp_path)
    assert spice_status() == (True, "")


@pytest.mark.parametrize(
    "predictions, references, message",
    [
        ({"a": "x", "b": "y"}, {"a": ["x"]}, "'b' has no references"),
        ({"a": "x"}, {"a": ["x"], "c": ["z"]}, "'c' has no prediction"),
        ({"a": "x"}, {"a": []}, "'a' has an empty list"),
        ({"a": "x"}, {"a": "x"}, "'a' must be a list"),
        ({"a": None}, {"a": ["x"]}, "'a' is NoneType"),
        ({}, {}, "no predictions"),
    ],
)
def test_bad_inputs_name_the_id(predictions, references, message) -> None:
    with pytest.raises(ValueError, match=message):
        caption_scores(predictions, references)
    with pytest.raises(ValueError, match=message):
        cider_per_example(predictions, references)
