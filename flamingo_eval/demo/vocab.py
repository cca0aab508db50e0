"""The demo suite's closed vocabulary: shapes, colours, sizes, positions, number words, the made-up
names of the binding benchmark, and the small grammar helpers (plurals, articles) captions need.

Everything here is a constant or a pure function on strings; nothing draws or writes files.
"""

from __future__ import annotations

# Six shapes a frozen ImageNet encoder separates easily at 224x224: different outlines, no two alike
# after a rotation (an axis-aligned square and a diamond differ in how they stand, not only in size).
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "diamond", "cross")
SHAPE_PLURALS: dict[str, str] = {shape: shape + "s" for shape in SHAPES} | {"cross": "crosses"}

# Six saturated colours far apart in hue, all clearly unlike the light-grey background.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (35, 160, 60),
    "blue": (35, 80, 215),
    "yellow": (240, 205, 30),
    "purple": (135, 55, 175),
    "orange": (245, 130, 20),
}
COLOR_NAMES: tuple[str, ...] = tuple(COLORS)

SIZES: tuple[str, ...] = ("small", "large")
# Object radius ranges in pixels (224x224 image). Single objects are "small" or "large"; objects of
# multi-object scenes are in between and their size is not a stated fact.
SIZE_RADII: dict[str, tuple[int, int]] = {"small": (18, 24), "large": (40, 48)}
MULTI_RADIUS: tuple[int, int] = (18, 28)

POSITIONS: tuple[str, ...] = ("left", "right", "top", "bottom", "center")
# Where a single object's centre goes (before a little jitter); far enough apart that "left" never
# crosses the middle of the image even for a large object.
POSITION_CENTERS: dict[str, tuple[int, int]] = {
    "left": (62, 112),
    "right": (162, 112),
    "top": (112, 62),
    "bottom": (112, 162),
    "center": (112, 112),
}
# How captions say a position: "on the left", "at the top", "in the center".
POSITION_PHRASES: dict[str, str] = {
    "left": "on the left",
    "right": "on the right",
    "top": "at the top",
    "bottom": "at the bottom",
    "center": "in the center",
}

DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")

NUMBER_WORDS: dict[int, str] = {1: "one", 2: "two", 3: "three", 4: "four"}

# Nonsense words for the binding benchmark (pronounceable, not English words, not answers used
# elsewhere). The generator shuffles them with the seed and deals them out to kinds, so which kind gets
# which name depends on the seed, and test names are never train or val names.
NONSENSE_NAMES: tuple[str, ...] = (
    "dax", "blicket", "wug", "zorp", "fep", "toma", "kiki", "bouba", "mipo", "lufa",
    "tufa", "zib", "roke", "pilk", "nork", "sibu", "jeck", "modi", "quap", "hinx",
    "drib", "yoot", "kesh", "teebo", "wuzzle", "gazzer", "vop", "fendle", "glorp", "snib",
    "tazz", "pumo", "rilla", "zeffa", "dobo", "keffa", "lorp", "mib", "noof", "tiv",
    "gub", "yemp", "zint", "plav",
)


def plural(shape: str, count: int) -> str:
    """``shape`` in the singular for ``count == 1``, else its plural ("cross", 2 -> "crosses")."""
    return shape if count == 1 else SHAPE_PLURALS[shape]


def article(word: str) -> str:
    """The indefinite article for the word that follows it: "an" before a vowel ("an orange"), else "a"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def capitalize(text: str) -> str:
    """The text with its first letter upper-cased and the rest left alone (unlike ``str.capitalize``)."""
    return text[:1].upper() + text[1:]


def noun_phrase(count: int, color: str, shape: str, *, numeral: bool = False) -> str:
    """"a red circle" / "two green stars"; ``numeral`` says "one red circle" for a single object."""
    head = f"{color} {plural(shape, count)}"
    if count == 1:
        return f"one {head}" if numeral else f"{article(color)} {head}"
    return f"{NUMBER_WORDS[count]} {head}"
