"""Shared handling of a vision spec's ``options`` mapping: transform settings and unknown keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from flamingo_eval.model.vision.base import ImageTransform

TRANSFORM_KEYS = ("size", "mean", "std", "interpolation", "crop")


def pop_transform(options: dict[str, Any], *, default: ImageTransform) -> ImageTransform:
    """Remove the transform keys from ``options`` (in place) and return ``default`` with them applied.

    YAML gives lists where the dataclass wants tuples; they are converted so the transform stays
    hashable and comparable.
    """
    overrides: dict[str, Any] = {}
    for key in TRANSFORM_KEYS:
        if key in options:
            value = options.pop(key)
            if key in ("mean", "std"):
                value = tuple(float(v) for v in value)
                if len(value) != 3:
                    raise ValueError(f"vision option {key!r} needs 3 values (R, G, B), got {len(value)}")
            overrides[key] = value
    return dataclasses.replace(default, **overrides)


def reject_unknown(kind: str, options: dict[str, Any], known: Iterable[str]) -> None:
    """Fail on any key of ``options`` not in ``known``: a typo in a spec must not be ignored."""
    known = set(known)
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"vision encoder {kind!r}: unknown option(s) {unknown}; known: {sorted(known | set(TRANSFORM_KEYS))}"
        )
