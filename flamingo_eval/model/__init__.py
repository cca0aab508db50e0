"""The embedded Flamingo implementation.

Public names: ``PerceiverResampler``, ``GatedXAttnDense``, ``Flamingo`` (the modules), ``load_model``
(a spec name or file -> ready ``FlamingoPipeline``), ``GenerationConfig`` and ``generate``.

They are imported on first use, not with the package: the spec layer (``model.spec``, ``model.config``)
lives here too and must be readable without torch and transformers, which the modules need.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# public name -> the submodule that defines it
_EXPORTS = {
    "Flamingo": "flamingo",
    "FlamingoPipeline": "pipeline",
    "GatedXAttnDense": "xattn",
    "GenerationConfig": "config",
    "MediaBatch": "media",
    "ModelSpec": "spec",
    "PerceiverConfig": "config",
    "PerceiverResampler": "perceiver",
    "SpecError": "spec",
    "WeightsError": "weights",
    "XAttnConfig": "config",
    "builtin_specs": "spec",
    "generate": "generate",
    "get_spec": "spec",
    "load_adapters": "weights",
    "load_model": "loader",
    "load_openflamingo_checkpoint": "weights",
    "load_spec": "spec",
    "save_adapters": "weights",
    "score_continuations": "generate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(types.ModuleType):
    """Keeps ``flamingo_eval.model.generate`` the function, as it was with eager imports: importing the
    submodule of the same name would otherwise bind the module in its place."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name and value.__name__ == f"{__name__}.{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
