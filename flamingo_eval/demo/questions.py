"""VQA questions about a scene, each with ten annotators' answers.

Question types (``kind``) and what they ask:

- ``color``: "What color is the circle?" / "What color are the stars?" -> "red" (answer type other)
- ``shape``: "What shape is the red object?" -> "circle" (other)
- ``count``: "How many squares are there?" / "How many objects are there?" -> "3" (number)
- ``yesno``: "Is there a blue triangle?" -> "yes" / "no" (yes/no); a "no" asks about a near miss (the
  shape of an object in another colour, or a colour of the scene on another shape)
- ``position`` (single objects): "Where is the circle?" -> "left" (other)
- ``size`` (single objects): "What size is the circle?" -> "large" (other)

Ten answers per question: all the right answer for most questions; for ``VARIANT_RATE`` of them one or
two annotators (never the first, whose answer demonstrations show) give a variant, either one the official
normalisation maps back ("three" for "3", "the left", "a star", "Red") or a real synonym ("violet",
"middle"), so the metric's normalisation is exercised while the majority stays right.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .scenes import Group, Scene
from .vocab import COLOR_NAMES, NUMBER_WORDS, SHAPES, article, plural

ANSWERS_PER_QUESTION = 10
QUESTIONS_PER_IMAGE = (2, 3)  # each image gets 2 or 3 questions of distinct kinds
VARIANT_RATE = 0.15  # share of questions where 1-2 annotators answer with a variant
# what each kind's answers are in VQAv2's answer types
ANSWER_TYPES = {"color": "other", "shape": "other", "count": "number", "yesno": "yes/no",
                "position": "other", "size": "other"}

# right answer -> variants an annotator may give instead
_VARIANTS: dict[str, tuple[str, ...]] = {
    **{str(n): (word,) for n, word in NUMBER_WORDS.items()},
    "red": ("Red", "dark red"), "green": ("Green", "dark green"), "blue": ("Blue", "dark blue"),
    "yellow": ("Yellow", "gold"), "purple": ("violet", "Purple"), "orange": ("Orange", "orange."),
    "circle": ("a circle", "round"), "square": ("a square", "box"), "triangle": ("a triangle", "Triangle"),
    "star": ("a star", "Star"), "diamond": ("a diamond", "rhombus"), "cross": ("a cross", "plus"),
    "left": ("the left", "left side"), "right": ("the right", "right side"), "top": ("the top", "top side"),
    "bottom": ("the bottom", "bottom side"), "center": ("the center", "middle"),
    "large": ("big", "Large"), "small": ("little", "Small"),
    "yes": ("Yes", "yes."), "no": ("No", "no."),
}


@dataclass(frozen=True)
class Question:
    kind: str  # color | shape | count | yesno | position | size
    question: str
    answer: str  # the right answer (multiple_choice_answer)
    question_type: str  # VQAv2-style question prefix, e.g. "what color is the"
    answer_type: str  # yes/no | number | other
    answers: tuple[str, ...]  # the ten annotators' answers, the first always ``answer``


def scene_questions(scene: Scene, rng: random.Random, *, want_yes: bool) -> list[Question]:
    """2-3 questions of distinct kinds about ``scene``; a yes/no question among them answers "yes"
    when ``want_yes`` (the caller alternates it so yes and no stay balanced over a split)."""
    kinds = ["color", "shape", "count", "yesno"] + (["position", "size"] if scene.layout == "single" else [])
    chosen = rng.sample(kinds, rng.choice(QUESTIONS_PER_IMAGE))
    return [_ask(kind, scene, rng, want_yes) for kind in chosen]


def _ask(kind: str, scene: Scene, rng: random.Random, want_yes: bool) -> Question:
    """One question of ``kind`` about the scene, with its ten answers."""
    group = rng.choice(scene.groups)
    many = group.count > 1
    verb, noun = ("are", "objects") if many else ("is", "object")
    if kind == "color":
        text, prefix, answer = (f"What color {verb} the {plural(group.shape, group.count)}?",
                                f"what color {verb} the", group.color)
    elif kind == "shape":
        text, prefix, answer = f"What shape {verb} the {group.color} {noun}?", f"what shape {verb} the", group.shape
    elif kind == "count":
        total = sum(g.count for g in scene.groups)
        if scene.layout == "two_kinds" and rng.random() < 0.3:
            text, answer = "How many objects are there?", str(total)
        else:
            text, answer = f"How many {plural(group.shape, 2)} are there?", str(group.count)
        prefix = "how many"
    elif kind == "yesno":
        color, shape = (group.color, group.shape) if want_yes else near_miss(scene, rng)
        text, prefix, answer = f"Is there {article(color)} {color} {shape}?", "is there a", "yes" if want_yes else "no"
    elif kind == "position":
        assert scene.position is not None
        text, prefix, answer = f"Where is the {group.shape}?", "where is the", scene.position
    elif kind == "size":
        assert scene.size is not None
        text, prefix, answer = f"What size is the {group.shape}?", "what size is the", scene.size
    else:
        raise ValueError(f"unknown question kind {kind!r}")
    return Question(kind, text, answer, prefix, ANSWER_TYPES[kind], annotator_answers(answer, rng))


def near_miss(scene: Scene, rng: random.Random) -> tuple[str, str]:
    """A (colour, shape) kind the scene does NOT hold, one attribute away from a kind it does hold
    (a red circle when there is a blue circle), so "no" cannot be guessed from either word alone."""
    present = {(g.color, g.shape) for g in scene.groups}
    base: Group = rng.choice(scene.groups)
    if rng.random() < 0.5:
        options = [(c, base.shape) for c in COLOR_NAMES if (c, base.shape) not in present]
    else:
        options = [(base.color, s) for s in SHAPES if (base.color, s) not in present]
    return rng.choice(options)


def annotator_answers(answer: str, rng: random.Random, rate: float = VARIANT_RATE) -> tuple[str, ...]:
    """Ten answers: ``answer`` ten times, except that with probability ``rate`` one or two annotators
    other than the first give a variant of it (when it has variants)."""
    answers = [answer] * ANSWERS_PER_QUESTION
    variants = _VARIANTS.get(answer, ())
    if variants and rng.random() < rate:
        for slot in rng.sample(range(1, ANSWERS_PER_QUESTION), rng.choice((1, 2))):
            answers[slot] = rng.choice(variants)
    return tuple(answers)
