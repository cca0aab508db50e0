"""Five captions per scene: paraphrases that all state the same facts.

The facts are the scene's groups (count, colour, shape) and, for a single object, its size and
position. The first caption is always the canonical sentence ("A large red circle on the left.",
"Three blue squares.", "A red circle and two green stars."): it is what demonstrations show (the reader's
``target``), so a model sees one consistent style in its prompts. The other four are distinct templates
drawn from the item's generator, with size synonyms (big / little) drawn per caption; CIDEr scores
against all five.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from .scenes import Group, Scene
from .vocab import NUMBER_WORDS, POSITION_PHRASES, article, capitalize, noun_phrase, plural

CAPTIONS_PER_IMAGE = 5
SIZE_SYNONYMS: dict[str, tuple[str, ...]] = {"large": ("large", "big"), "small": ("small", "little")}

_Template = Callable[[Scene, random.Random], str]


def captions(scene: Scene, rng: random.Random) -> list[str]:
    """The scene's five captions: the canonical one, then four paraphrases chosen with ``rng``."""
    canonical, paraphrases = _TEMPLATES[scene.layout]
    chosen = rng.sample(paraphrases, CAPTIONS_PER_IMAGE - 1)
    return [capitalize(canonical(scene, rng))] + [capitalize(template(scene, rng)) for template in chosen]


def tokens(caption: str) -> list[str]:
    """Karpathy-style tokens: the lower-cased words and numbers, punctuation dropped."""
    return re.findall(r"[a-z0-9]+", caption.lower())


# ---------------------------------------------------------------- single object


def _single(scene: Scene) -> tuple[str, str, str, str]:
    """(size, colour, shape, position phrase) of a single-object scene."""
    group = scene.groups[0]
    assert scene.size is not None and scene.position is not None, "a single scene has a size and position"
    return scene.size, group.color, group.shape, POSITION_PHRASES[scene.position]


def _size_word(scene: Scene, rng: random.Random) -> str:
    """The scene's size or a synonym of it (big for large, little for small)."""
    assert scene.size is not None
    return rng.choice(SIZE_SYNONYMS[scene.size])


def _single_canonical(scene: Scene, rng: random.Random) -> str:
    size, color, shape, where = _single(scene)
    return f"{article(size)} {size} {color} {shape} {where}."


def _single_templates() -> list[_Template]:
    def there_is(s: Scene, r: random.Random) -> str:
        _, color, shape, where = _single(s)
        return f"There is one {_size_word(s, r)} {color} {shape} {where}."

    def size_after(s: Scene, r: random.Random) -> str:
        size, color, shape, where = _single(s)
        return f"{article(color)} {color} {shape}, {size}, {where}."

    def place_first(s: Scene, r: random.Random) -> str:
        _, color, shape, where = _single(s)
        word = _size_word(s, r)
        return f"{where} there is {article(word)} {word} {color} {shape}."

    def of_picture(s: Scene, r: random.Random) -> str:
        _, color, shape, where = _single(s)
        return f"A single {_size_word(s, r)} {color} {shape} {where} of the picture."

    def in_color(s: Scene, r: random.Random) -> str:
        _, color, shape, where = _single(s)
        word = _size_word(s, r)
        return f"{article(word)} {word} {shape} in {color}, {where}."

    def that_is(s: Scene, r: random.Random) -> str:
        size, color, shape, where = _single(s)
        return f"One {color} {shape} that is {size}, {where}."

    def sits(s: Scene, r: random.Random) -> str:
        _, color, shape, where = _single(s)
        word = _size_word(s, r)
        return f"{article(word)} {word} {color} {shape} sits {where}."

    def image_with(s: Scene, r: random.Random) -> str:
        _, color, shape, where = _single(s)
        word = _size_word(s, r)
        return f"An image with {article(word)} {word} {color} {shape} {where}."

    return [there_is, size_after, place_first, of_picture, in_color, that_is, sits, image_with]


# ---------------------------------------------------------------- one kind, 2-4 objects


def _kind(scene: Scene) -> tuple[str, str, str]:
    """(number word, colour, plural shape) of a one-kind scene."""
    group = scene.groups[0]
    return NUMBER_WORDS[group.count], group.color, plural(group.shape, group.count)


def _one_kind_canonical(scene: Scene, rng: random.Random) -> str:
    number, color, shapes = _kind(scene)
    return f"{number} {color} {shapes}."


def _one_kind_templates() -> list[_Template]:
    forms = [
        "There are {n} {c} {s}.",
        "{n} {s}, all {c}.",
        "A picture of {n} {c} {s}.",
        "{n} {c} {s} on a grey background.",
        "A group of {n} {c} {s}.",
        "{n} {s} that are {c}.",
        "An image with {n} {c} {s}.",
    ]

    def template_for(form: str) -> _Template:
        def fill(s: Scene, r: random.Random) -> str:
            number, color, shapes = _kind(s)
            return form.format(n=number, c=color, s=shapes)

        return fill

    return [template_for(form) for form in forms]


# ---------------------------------------------------------------- two kinds


def _phrase(group: Group, numeral: bool = False) -> str:
    return noun_phrase(group.count, group.color, group.shape, numeral=numeral)


def _two_canonical(scene: Scene, rng: random.Random) -> str:
    a, b = scene.groups
    return f"{_phrase(a)} and {_phrase(b)}."


def _two_templates() -> list[_Template]:
    def there(s: Scene, r: random.Random) -> str:
        a, b = s.groups
        verb = "is" if a.count == 1 else "are"  # agrees with the nearest noun phrase
        return f"There {verb} {_phrase(a)} and {_phrase(b)}."

    def swapped(s: Scene, r: random.Random) -> str:
        a, b = s.groups
        return f"{_phrase(b)} and {_phrase(a)}."

    def picture(s: Scene, r: random.Random) -> str:
        a, b = s.groups
        return f"A picture of {_phrase(a, numeral=True)} and {_phrase(b, numeral=True)}."

    def next_to(s: Scene, r: random.Random) -> str:
        a, b = s.groups
        return f"{_phrase(a)} next to {_phrase(b)}."

    def together(s: Scene, r: random.Random) -> str:
        a, b = s.groups
        return f"{_phrase(a)} together with {_phrase(b)}."

    def image_with(s: Scene, r: random.Random) -> str:
        a, b = s.groups
        return f"An image with {_phrase(a, numeral=True)} and {_phrase(b, numeral=True)}."

    def beside(s: Scene, r: random.Random) -> str:
        a, b = s.groups
        return f"{_phrase(b)} beside {_phrase(a)}."

    return [there, swapped, picture, next_to, together, image_with, beside]


# layout -> (canonical template, paraphrase templates)
_TEMPLATES: dict[str, tuple[_Template, list[_Template]]] = {
    "single": (_single_canonical, _single_templates()),
    "one_kind": (_one_kind_canonical, _one_kind_templates()),
    "two_kinds": (_two_canonical, _two_templates()),
}
