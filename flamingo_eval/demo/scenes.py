"""Scenes of the captions / VQA benchmarks: what objects an image holds and where, as data.

A scene is sampled from one item's generator (``sample_scene``); drawing it is ``draw.render``'s job
and describing it in words is ``captions`` and ``questions``'. Three layouts:

- ``single``: one object with a stated size (small / large) and position (left, right, top, bottom,
  center): "A large red circle on the left."
- ``one_kind``: 2-4 objects of the same shape and colour, anywhere, not overlapping: "Three blue squares."
- ``two_kinds``: two groups that differ in both shape and colour (so "the red object" and "the circle"
  are unambiguous), 2-4 objects in all: "A red circle and two green stars."
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .vocab import COLOR_NAMES, COLORS, MULTI_RADIUS, POSITION_CENTERS, POSITIONS, SHAPES, SIZE_RADII, SIZES

IMAGE_SIZE = 224  # every image and video frame is IMAGE_SIZE x IMAGE_SIZE
EDGE_MARGIN = 6  # pixels kept free between an object and the image border
GAP = 8  # pixels kept free between two objects' bounding circles
RADIUS_JITTER = 2  # objects of one group differ in radius by at most this much from the group's radius
POSITION_JITTER = 6  # a single object's centre moves this far (each axis) from its position's centre
# layout -> probability; mostly the easy layouts, some two-kind scenes
LAYOUT_WEIGHTS: dict[str, float] = {"single": 0.4, "one_kind": 0.4, "two_kinds": 0.2}
TWO_KIND_COUNTS: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (1, 3), (3, 1), (2, 2))


@dataclass(frozen=True)
class SceneObject:
    shape: str
    color: str  # a name in vocab.COLORS
    center: tuple[int, int]  # (x, y) in pixels
    radius: int  # the bounding circle's radius in pixels
    rgb: tuple[int, int, int]  # the fill actually drawn (COLORS[color], or jittered by the binding set)


@dataclass(frozen=True)
class Group:
    """A set of objects of one kind, as captions and questions speak of them."""

    count: int
    color: str
    shape: str


@dataclass(frozen=True)
class Scene:
    layout: str  # single | one_kind | two_kinds
    objects: tuple[SceneObject, ...]
    groups: tuple[Group, ...]  # one per kind, in the order captions name them
    size: str | None = None  # small | large, single layout only
    position: str | None = None  # a vocab.POSITIONS entry, single layout only

    def to_json(self) -> dict:
        """The scene as a JSON-ready dict (written next to the data so its content is recoverable)."""
        return {
            "layout": self.layout,
            "groups": [{"count": g.count, "color": g.color, "shape": g.shape} for g in self.groups],
            "size": self.size,
            "position": self.position,
            "objects": [{"shape": o.shape, "color": o.color, "center": list(o.center), "radius": o.radius}
                        for o in self.objects],
        }


def sample_scene(rng: random.Random) -> Scene:
    """A random scene of any layout (weights ``LAYOUT_WEIGHTS``), drawn only from ``rng``."""
    layout = rng.choices(list(LAYOUT_WEIGHTS), weights=list(LAYOUT_WEIGHTS.values()))[0]
    if layout == "single":
        return single_scene(rng, rng.choice(SHAPES), rng.choice(COLOR_NAMES), rng.choice(SIZES), rng.choice(POSITIONS))
    if layout == "one_kind":
        group = Group(rng.randint(2, 4), rng.choice(COLOR_NAMES), rng.choice(SHAPES))
        return Scene("one_kind", place_groups(rng, [group]), (group,))
    count_a, count_b = rng.choice(TWO_KIND_COUNTS)
    shape_a, shape_b = rng.sample(SHAPES, 2)
    color_a, color_b = rng.sample(COLOR_NAMES, 2)
    groups = (Group(count_a, color_a, shape_a), Group(count_b, color_b, shape_b))
    return Scene("two_kinds", place_groups(rng, list(groups)), groups)


def single_scene(rng: random.Random, shape: str, color: str, size: str, position: str) -> Scene:
    """One object of the given kind, size and position (centre jittered a little, radius from the
    size's range)."""
    low, high = SIZE_RADII[size]
    cx, cy = POSITION_CENTERS[position]
    center = (cx + rng.randint(-POSITION_JITTER, POSITION_JITTER), cy + rng.randint(-POSITION_JITTER, POSITION_JITTER))
    obj = SceneObject(shape, color, center, rng.randint(low, high), COLORS[color])
    return Scene("single", (obj,), (Group(1, color, shape),), size=size, position=position)


def place_groups(rng: random.Random, groups: list[Group]) -> tuple[SceneObject, ...]:
    """Non-overlapping objects for the groups, at random places (rejection sampling; a whole layout
    is redrawn when one object finds no room, which at 4 objects of radius <= 28 is rare)."""
    # one size per group, varied a little per object: "three squares" should look like one kind
    group_radii = [rng.randint(*MULTI_RADIUS) for _ in groups]
    radii = [(group, base + rng.randint(-RADIUS_JITTER, RADIUS_JITTER))
             for group, base in zip(groups, group_radii) for _ in range(group.count)]
    while True:
        placed: list[SceneObject] = []
        for group, radius in radii:
            center = _free_spot(rng, radius, placed)
            if center is None:
                break
            placed.append(SceneObject(group.shape, group.color, center, radius, COLORS[group.color]))
        else:
            return tuple(placed)


def _free_spot(rng: random.Random, radius: int, placed: list[SceneObject], tries: int = 200) -> tuple[int, int] | None:
    """A centre for a new object of ``radius`` clear of the border and of ``placed``; None if none found."""
    low, high = radius + EDGE_MARGIN, IMAGE_SIZE - radius - EDGE_MARGIN
    for _ in range(tries):
        x, y = rng.randint(low, high), rng.randint(low, high)
        if all((x - o.center[0]) ** 2 + (y - o.center[1]) ** 2 >= (radius + o.radius + GAP) ** 2 for o in placed):
            return (x, y)
    return None
