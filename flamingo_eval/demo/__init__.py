"""A deterministic synthetic benchmark suite in the official file formats, generated on the spot.

``generate(root)`` writes four benchmark data folders under ``root`` (nothing to download):

- ``demo_captions``: Karpathy-format captions of simple scenes (1-4 shapes on grey), 5 per image;
- ``demo_vqa``: VQAv2-format questions about the same images (colour, shape, count, yes/no, position,
  size), ten answers each;
- ``demo_binding``: fast concept binding (Frozen): "What is this?" -> a made-up name that only the
  demonstrations tell; test names are never used in train or val;
- ``demo_video_qa``: MSRVTT-QA-format questions about short mp4s (an object moves, changes colour or
  appears).

Every image's or video's content is also written as data (``scenes.json``, ``kinds.json``,
``videos.json``) for training recipes. Specs: ``benchmarks/demo_*.yaml``.
"""

from .generate import DEMO_BENCHMARKS, DEMO_VERSION, MANIFEST, DemoSizes, generate
from .vocab import COLORS, DIRECTIONS, POSITIONS, SHAPES, SIZES

__all__ = ["COLORS", "DEMO_BENCHMARKS", "DEMO_VERSION", "DIRECTIONS", "MANIFEST", "POSITIONS", "SHAPES", "SIZES",
           "DemoSizes", "generate"]
