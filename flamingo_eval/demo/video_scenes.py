"""Videos of the video QA benchmark, as data: one object and one event, and the questions it answers.

Events (all 4 s at 4 fps, ``FRAMES`` frames; sampled at the paper's 1 fps a model sees t = 0, 1, 2, 3 s):

- ``move``: the object slides ``TRAVEL`` pixels left, right, up or down at constant speed;
- ``recolor``: the object stands still and turns from one colour to another at ``CHANGE_FRAME``;
- ``appear``: the background is empty until ``CHANGE_FRAME``, then the object is there.

The change happens at 1.5 s, between two 1-fps samples, so two sampled frames show each state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .scenes import EDGE_MARGIN, IMAGE_SIZE, SceneObject
from .vocab import COLOR_NAMES, COLORS, DIRECTIONS, SHAPES

FPS = 4  # frames per second of the mp4
FRAMES = 16  # 4 seconds
CHANGE_FRAME = 6  # recolor / appear happen here (t = 1.5 s)
TRAVEL = 120  # pixels a moving object covers from the first frame to the last
RADIUS_RANGE = (24, 34)  # object radius in pixels
EVENT_WEIGHTS: dict[str, float] = {"move": 0.4, "recolor": 0.3, "appear": 0.3}
QUESTIONS_PER_VIDEO = 2
# direction -> unit step (x, y) in image coordinates (y grows downwards)
_STEPS: dict[str, tuple[int, int]] = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


@dataclass(frozen=True)
class VideoScene:
    event: str  # move | recolor | appear
    shape: str
    color: str  # the object's colour (before the change, for recolor)
    radius: int
    start: tuple[int, int]  # centre (x, y) in the first frame (the whole video unless it moves)
    end: tuple[int, int]  # centre in the last frame
    direction: str | None = None  # move only: left | right | up | down
    new_color: str | None = None  # recolor only: the colour it turns

    def object_at(self, frame: int) -> SceneObject | None:
        """The object as drawn in ``frame`` (0-based), or None while it has not appeared yet."""
        if self.event == "appear" and frame < CHANGE_FRAME:
            return None
        t = frame / (FRAMES - 1)
        center = (round(self.start[0] + t * (self.end[0] - self.start[0])),
                  round(self.start[1] + t * (self.end[1] - self.start[1])))
        color = self.new_color if self.event == "recolor" and frame >= CHANGE_FRAME else self.color
        assert color is not None
        return SceneObject(self.shape, color, center, self.radius, COLORS[color])

    def to_json(self) -> dict:
        """The video's content as a JSON-ready dict."""
        return {"event": self.event, "shape": self.shape, "color": self.color, "new_color": self.new_color,
                "direction": self.direction, "radius": self.radius, "start": list(self.start), "end": list(self.end)}


def sample_video_scene(rng: random.Random) -> VideoScene:
    """A random video (event by ``EVENT_WEIGHTS``), drawn only from ``rng``."""
    event = rng.choices(list(EVENT_WEIGHTS), weights=list(EVENT_WEIGHTS.values()))[0]
    shape, color = rng.choice(SHAPES), rng.choice(COLOR_NAMES)
    radius = rng.randint(*RADIUS_RANGE)
    low, high = radius + EDGE_MARGIN, IMAGE_SIZE - radius - EDGE_MARGIN
    if event == "move":
        direction = rng.choice(DIRECTIONS)
        dx, dy = _STEPS[direction]
        # the start leaves room for the whole path inside the image
        x0 = rng.randint(low + max(0, -dx) * TRAVEL, high - max(0, dx) * TRAVEL)
        y0 = rng.randint(low + max(0, -dy) * TRAVEL, high - max(0, dy) * TRAVEL)
        end = (x0 + dx * TRAVEL, y0 + dy * TRAVEL)
        return VideoScene("move", shape, color, radius, (x0, y0), end, direction=direction)
    place = (rng.randint(low, high), rng.randint(low, high))
    if event == "recolor":
        new_color = rng.choice([c for c in COLOR_NAMES if c != color])
        return VideoScene("recolor", shape, color, radius, place, place, new_color=new_color)
    return VideoScene("appear", shape, color, radius, place, place)


@dataclass(frozen=True)
class VideoQuestion:
    kind: str  # direction | color | shape | old_color | new_color
    question: str
    answer: str  # one word


def video_questions(scene: VideoScene, rng: random.Random) -> list[VideoQuestion]:
    """``QUESTIONS_PER_VIDEO`` questions of distinct kinds about the video, single-word answers."""
    s = scene.shape
    if scene.event == "move":
        assert scene.direction is not None
        pool = [VideoQuestion("direction", f"Which way does the {s} move?", scene.direction),
                VideoQuestion("color", "What color is the moving object?", scene.color),
                VideoQuestion("shape", "What shape is moving?", s)]
    elif scene.event == "recolor":
        assert scene.new_color is not None
        pool = [VideoQuestion("new_color", f"What color does the {s} turn?", scene.new_color),
                VideoQuestion("old_color", f"What color is the {s} at first?", scene.color),
                VideoQuestion("shape", "What shape changes color?", s)]
    else:
        pool = [VideoQuestion("shape", "What shape appears?", s),
                VideoQuestion("color", "What color is the object that appears?", scene.color)]
    return rng.sample(pool, QUESTIONS_PER_VIDEO)
