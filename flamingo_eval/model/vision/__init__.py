"""Frozen vision encoders: pixels in, per-image tokens out.

Importing this package registers every encoder kind (``clip_vit``, ``tiny_vit``,
``efficientnet_lite0``) with ``build_vision_encoder``.
"""

from flamingo_eval.model.vision.base import (
    VISION_ENCODERS,
    ImageTransform,
    VisionEncoder,
    build_vision_encoder,
    register_vision_encoder,
)
from flamingo_eval.model.vision.clip import ClipViT, infer_clip_config
from flamingo_eval.model.vision.efficientnet import EfficientNetLite0
from flamingo_eval.errors import WeightsError
from flamingo_eval.model.state_dicts import read_state_dict

__all__ = [
    "VISION_ENCODERS",
    "ClipViT",
    "EfficientNetLite0",
    "ImageTransform",
    "VisionEncoder",
    "WeightsError",
    "build_vision_encoder",
    "infer_clip_config",
    "read_state_dict",
    "register_vision_encoder",
]
