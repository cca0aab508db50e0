"""The embedded Flamingo implementation.

Public names: ``PerceiverResampler``, ``GatedXAttnDense``, ``Flamingo`` (the modules), ``load_model``
(a spec name or file -> ready ``FlamingoPipeline``), ``GenerationConfig`` and ``generate``.
"""

from .config import PerceiverConfig, XAttnConfig
from .flamingo import Flamingo
from .generate import GenerationConfig, generate, score_continuations
from .loader import load_model
from .media import MediaBatch
from .perceiver import PerceiverResampler
from .pipeline import FlamingoPipeline
from .spec import ModelSpec, SpecError, builtin_specs, get_spec, load_spec
from .weights import WeightsError, load_adapters, load_openflamingo_checkpoint, save_adapters
from .xattn import GatedXAttnDense

__all__ = [
    "Flamingo",
    "FlamingoPipeline",
    "GatedXAttnDense",
    "GenerationConfig",
    "MediaBatch",
    "ModelSpec",
    "PerceiverConfig",
    "PerceiverResampler",
    "SpecError",
    "WeightsError",
    "XAttnConfig",
    "builtin_specs",
    "generate",
    "get_spec",
    "load_adapters",
    "load_model",
    "load_openflamingo_checkpoint",
    "load_spec",
    "save_adapters",
    "score_continuations",
]
