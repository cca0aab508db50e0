"""Draw objects on a plain light-grey background: scenes into PIL images, images into JPEG bytes.

Shapes are drawn at twice the size and averaged down (smooth edges without anti-aliasing support in
``ImageDraw``), filled with their colour and outlined in near-black, then a little Gaussian pixel noise
is added so no two images are pixel-identical. Pure functions: the same objects and noise generator give
the same pixels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .scenes import IMAGE_SIZE, SceneObject

SUPERSAMPLE = 2  # draw at this multiple of the final size, then downsample (smooth edges)
OUTLINE_RGB = (30, 30, 30)  # the dark outline every object has
OUTLINE_WIDTH = 3  # pixels at the final size
BACKGROUND_LEVELS = (198, 214)  # the grey background's level is drawn from this range per image
NOISE_SIGMA = 3.0  # standard deviation of the pixel noise, in 0-255 levels
JPEG_QUALITY = 92


def shape_points(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """The polygon of ``shape`` centred at (cx, cy) with bounding radius ``r`` (not for circles).

    Factors are chosen so the shapes look about equally big and stay (nearly) inside the circle of
    radius r that layouts keep apart; y grows downwards, so the triangle points up.
    """
    if shape == "square":
        h = 0.75 * r
        return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
    if shape == "diamond":
        w, h = 0.78 * r, 1.05 * r
        return [(cx, cy - h), (cx + w, cy), (cx, cy + h), (cx - w, cy)]
    if shape == "triangle":
        return _star_like(cx, cy + 0.12 * r, [1.08 * r], 3)  # shifted down: its area sits low
    if shape == "star":
        return _star_like(cx, cy, [1.08 * r, 0.45 * r], 5)
    if shape == "cross":
        a, w = 0.95 * r, 0.32 * r  # arm half-length and half-width
        return [(cx - w, cy - a), (cx + w, cy - a), (cx + w, cy - w), (cx + a, cy - w), (cx + a, cy + w),
                (cx + w, cy + w), (cx + w, cy + a), (cx - w, cy + a), (cx - w, cy + w), (cx - a, cy + w),
                (cx - a, cy - w), (cx - w, cy - w)]
    raise ValueError(f"no polygon for shape {shape!r}")


def _star_like(cx: float, cy: float, radii: Sequence[float], points: int) -> list[tuple[float, float]]:
    """A regular polygon (one radius) or star (outer and inner radius) with a vertex straight up."""
    steps = points * len(radii)
    return [
        (cx + radii[k % len(radii)] * math.cos(-math.pi / 2 + 2 * math.pi * k / steps),
         cy + radii[k % len(radii)] * math.sin(-math.pi / 2 + 2 * math.pi * k / steps))
        for k in range(steps)
    ]


def draw_objects(objects: Sequence[SceneObject], background: int, *, size: int = IMAGE_SIZE) -> Image.Image:
    """The objects filled and outlined on a flat grey of level ``background``, without noise."""
    s = SUPERSAMPLE
    canvas = Image.new("RGB", (size * s, size * s), (background,) * 3)
    pen = ImageDraw.Draw(canvas)
    for obj in objects:
        cx, cy, r = obj.center[0] * s, obj.center[1] * s, obj.radius * s
        if obj.shape == "circle":
            pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=obj.rgb, outline=OUTLINE_RGB, width=OUTLINE_WIDTH * s)
        else:
            pen.polygon(shape_points(obj.shape, cx, cy, r), fill=obj.rgb, outline=OUTLINE_RGB, width=OUTLINE_WIDTH * s)
    return canvas.resize((size, size), Image.Resampling.BOX)


def add_noise(image: Image.Image, rng: np.random.Generator, sigma: float = NOISE_SIGMA) -> Image.Image:
    """The image plus Gaussian noise of ``sigma`` levels per pixel and channel, from ``rng``."""
    pixels = np.asarray(image, dtype=np.float32)
    noisy = pixels + rng.normal(0.0, sigma, pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))


def render(objects: Sequence[SceneObject], rng: np.random.Generator) -> Image.Image:
    """A finished 224x224 image: a background level drawn from ``rng``, the objects, then noise."""
    background = int(rng.integers(BACKGROUND_LEVELS[0], BACKGROUND_LEVELS[1] + 1))
    return add_noise(draw_objects(objects, background), rng)


def jpeg_bytes(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """The image encoded as a baseline JPEG (libjpeg is deterministic: same pixels, same bytes)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
