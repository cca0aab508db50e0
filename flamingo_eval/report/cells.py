"""How one number of a table is shown: the paper scale (x100) and one decimal.

The Flamingo and OpenFlamingo papers print CIDEr (pycocoevalcap's 1.0 = 100), VQA accuracy and the other
accuracies as percentages with one decimal, so a report reads like their tables: ``84.3 ± 1.2``.
"""

from __future__ import annotations

import math

# Every metric this harness writes is on a 0..1 scale (CIDEr 0..~10) that papers print x100; a metric a
# future benchmark adds that papers print as is can be listed here.
UNSCALED_METRICS: frozenset[str] = frozenset()
MISSING = "-"


def display_scale(metric: str) -> float:
    """The factor a metric's value (and std) is multiplied by for display: 100, as the papers print them."""
    return 1.0 if metric in UNSCALED_METRICS else 100.0


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _unsigned_zero(text: str) -> str:
    # Rounding a tiny negative gives "-0.0", which shows a sign that is not there.
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_cell(mean: float | None, std: float | None = None, decimals: int = 1) -> str:
    """``"84.3 ± 1.2"`` from an already scaled mean and std; just the mean when std is missing (a
    published number without one); ``MISSING`` when the mean is missing."""
    if _is_missing(mean):
        return MISSING
    text = _unsigned_zero(f"{mean:.{decimals}f}")
    return text if _is_missing(std) else f"{text} ± {_unsigned_zero(f'{std:.{decimals}f}')}"


def format_delta(delta: float | None, decimals: int = 1) -> str:
    """A signed difference, ``"+1.2"`` / ``"-0.3"`` (``"+0.0"`` for one that rounds to zero)."""
    if _is_missing(delta):
        return MISSING
    text = f"{delta:+.{decimals}f}"
    return "+" + _unsigned_zero(text) if text.startswith("-") and float(text) == 0 else text
