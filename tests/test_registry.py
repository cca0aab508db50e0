"""The one registry helper: every named, pluggable thing (data formats, vision encoders, post-processors,
metrics, selection strategies) is looked up the same way and fails the same way."""

from __future__ import annotations

import pytest

from flamingo_eval.data.formats import FORMATS, read_examples
from flamingo_eval.errors import SpecError, UnknownNameError
from flamingo_eval.metrics import METRICS, get_metric
from flamingo_eval.model.vision import VISION_ENCODERS, build_vision_encoder
from flamingo_eval.prompting.postprocess import POSTPROCESSORS, get_postprocessor
from flamingo_eval.prompting.selection import STRATEGIES, make_selector
from flamingo_eval.registry import Registry


def test_register_get_and_list() -> None:
    shapes: Registry[int] = Registry("shape")

    @shapes.register("square")
    def square() -> int:
        return 4

    shapes.add("triangle", 3)  # type: ignore[arg-type]
    assert shapes.get("square") is square and shapes["triangle"] == 3
    assert "square" in shapes and "circle" not in shapes and ["list"] not in shapes
    assert list(shapes) == ["square", "triangle"] and shapes.names() == ("square", "triangle") and len(shapes) == 2
    with pytest.raises(ValueError, match="shape 'square' is registered twice"):
        shapes.add("square", 5)  # type: ignore[arg-type]
    shapes.add("square", square)  # the same entry again changes nothing


def test_unknown_name_names_kind_name_and_choices() -> None:
    shapes = Registry("shape", {"square": 4, "triangle": 3})
    with pytest.raises(UnknownNameError) as caught:
        shapes.get("circle")
    assert str(caught.value) == "unknown shape 'circle'; known: square, triangle"
    # what the lookups it replaced raised, so that callers catching those still catch it
    assert isinstance(caught.value, SpecError) and isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
    with pytest.raises(UnknownNameError, match="unknown shape"):
        shapes.get(["a", "list"])  # type: ignore[arg-type]  (YAML can give one)


def test_provider_is_imported_at_first_lookup() -> None:
    assert "vqa" in FORMATS and "karpathy" in FORMATS.names()  # registered by flamingo_eval.data.readers
    broken = Registry("thing", provider="flamingo_eval.no_such_module")
    for _ in range(2):  # a provider that fails is tried again, not taken as loaded
        with pytest.raises(ModuleNotFoundError):
            broken.get("x")


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda: read_examples("coco_json", ".", {}), "unknown data format 'coco_json'; known: hateful_memes, hf, imagenet, ivqa"),
        (lambda: build_vision_encoder("resnet", {}, None), "unknown vision encoder kind 'resnet'; known: clip_vit"),
        (lambda: get_postprocessor("shout"), "unknown post-processing 'shout'; known: caption, none, vqa"),
        (lambda: get_metric("bleu"), "unknown metric 'bleu'; known: cider, classification_accuracy, exact_match"),
        (lambda: make_selector("nearest", [], seed=0, trial=0), "unknown selection 'nearest'; known: fixed, random, rices, text"),
    ],
)
def test_every_registry_raises_the_same_error(lookup, message: str) -> None:
    with pytest.raises(UnknownNameError, match=message):
        lookup()


def test_the_five_registries() -> None:
    assert all(isinstance(registry, Registry) for registry in (FORMATS, VISION_ENCODERS, POSTPROCESSORS, METRICS, STRATEGIES))
    assert list(STRATEGIES) == ["random", "fixed", "rices", "text"]  # the order --selection lists them
