"""Rendered prompts match OpenFlamingo's evaluation strings character for character."""

from __future__ import annotations

from pathlib import Path

import pytest

from flamingo_eval.data.example import Example, MediaRef
from flamingo_eval.errors import SpecError
from flamingo_eval.prompting.render import PromptTemplate, load_template, render_prompt


def ex(i: int, question: str | None = None, target: str | None = None) -> Example:
    return Example(id=str(i), media=(MediaRef(Path(f"/img/{i}.jpg")),), question=question, target=target)


# OpenFlamingo's evaluation: each demonstration is get_*_prompt(..., answer) + "\n", then the query's
# get_*_prompt() with no answer; its caption prompt is f"<image>Output:{caption}<|endofchunk|>" and its
# VQA prompt f"<image>Question:{question} Short answer:{answer}<|endofchunk|>" (answer-less: no
# <|endofchunk|>). Zero-shot keeps the demonstrations' text with "<image>" removed.
def test_captioning_prompt_is_openflamingos():
    demos = [ex(1, target="A cat on a mat."), ex(2, target="Two dogs.")]
    prompt = render_prompt(load_template("captioning"), demos, ex(9))
    assert prompt.text == "<image>Output:A cat on a mat.<|endofchunk|>\n<image>Output:Two dogs.<|endofchunk|>\n<image>Output:"
    assert [m.path.name for m in prompt.media] == ["1.jpg", "2.jpg", "9.jpg"]
    assert prompt.demo_ids == ("1", "2") and prompt.query_id == "9"


def test_vqa_prompt_is_openflamingos():
    demos = [ex(1, "What is it?", "cat"), ex(2, "How many?", "2")]
    prompt = render_prompt(load_template("vqa"), demos, ex(9, "Is it red?"))
    assert prompt.text == (
        "<image>Question:What is it? Short answer:cat<|endofchunk|>\n"
        "<image>Question:How many? Short answer:2<|endofchunk|>\n"
        "<image>Question:Is it red? Short answer:"
    )


# Its classification evaluation joins demonstrations with no separator: each is get_*_prompt(..., label),
# which ends in <|endofchunk|>; the HatefulMemes prompt is f"<image>is an image with: '{text}' written on
# it. Is it hateful? Answer:{label}", the ImageNet one f"<image>Output:{label}"; at 0 shots "<image>" is removed.
def test_classification_prompts_are_openflamingos():
    memes = [ex(1, "a meme", "no"), ex(2, "another", "yes")]
    prompt = render_prompt(load_template("hateful_memes", separator=""), memes, ex(9, "the query"))
    assert prompt.text == (
        "<image>is an image with: 'a meme' written on it. Is it hateful? Answer:no<|endofchunk|>"
        "<image>is an image with: 'another' written on it. Is it hateful? Answer:yes<|endofchunk|>"
        "<image>is an image with: 'the query' written on it. Is it hateful? Answer:"
    )
    classes = [ex(1, target="tench"), ex(2, target="goldfish")]
    prompt = render_prompt(load_template("imagenet", separator=""), classes, ex(9), text_only_demos=True)
    assert prompt.text == "Output:tench<|endofchunk|>Output:goldfish<|endofchunk|><image>Output:"


def test_zero_shot_text_only_demonstrations():
    demos = [ex(1, "What is it?", "cat"), ex(2, "How many?", "2")]
    prompt = render_prompt(load_template("vqa"), demos, ex(9, "Is it red?"), text_only_demos=True)
    assert prompt.text == (
        "Question:What is it? Short answer:cat<|endofchunk|>\n"
        "Question:How many? Short answer:2<|endofchunk|>\n"
        "<image>Question:Is it red? Short answer:"
    )
    assert [m.path.name for m in prompt.media] == ["9.jpg"]


def test_zero_shots_without_demonstrations():
    assert render_prompt(load_template("captioning"), [], ex(9)).text == "<image>Output:"


def test_template_mistakes_are_named(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("<image>Q:{question} A:{reply}\n")
    with pytest.raises(SpecError, match=r"bad.txt: unknown field \{reply\}"):
        load_template(str(bad))
    with pytest.raises(SpecError, match="prompt template not found"):
        load_template("no_such_template")
    two = PromptTemplate(text="<image><image>{answer}", name="two-images")
    with pytest.raises(SpecError, match="two-images has 2 <image> markers but example 9 has 1 media"):
        render_prompt(two, [], ex(9))
    with pytest.raises(SpecError, match="demonstration 1 has no answer"):
        render_prompt(load_template("vqa"), [ex(1, "q?")], ex(9, "q?"))
