"""The Flamingo paper's ablations (Table 3) as one-switch changes to a training recipe.

A variant is ``switch=value`` (``gating=none``, ``xattn_every=single``) or a bare flag
(``no_interleaved``); applied to a recipe it changes that one thing and names the result, so every row
of the ablation table differs from its baseline in one switch only. What each switch is in the paper:

==================  ==========================  ==============================================
switch              values                      the paper's row (Table 3)
==================  ==========================  ==============================================
gating              none                        (iii) w/o tanh gating
xattn_every         1, 2, 5, single             (v) cross-attention frequency
connector           mlp, mean                   (vi) Perceiver Resampler vs MLP / Transformer
schedule            round_robin                 (ii) accumulation vs round-robin
no_interleaved      (a flag)                    (i) w/o M3W (interleaved web pages)
lm                  unfrozen                    (viii) freezing the LM
==================  ==========================  ==============================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import SpecError
from .recipe import Recipe


@dataclass(frozen=True)
class Switch:
    """One ablation switch: the values it takes and how a value changes a recipe."""

    values: tuple[str, ...]  # () for a flag
    apply: Callable[[Recipe, str], Recipe]
    what: dict[str, str]  # per value ("" for a flag): what it changes, in words (the table's "what changed")


def _xattn_every(recipe: Recipe, value: str) -> Recipe:
    if value == "single":
        return dataclasses.replace(recipe, xattn={**recipe.xattn, "placement": "single"})
    return dataclasses.replace(recipe, xattn={**recipe.xattn, "every_n_layers": int(value), "placement": "every"})


SWITCHES: dict[str, Switch] = {
    "gating": Switch(("none",), lambda r, v: dataclasses.replace(r, xattn={**r.xattn, "gating": v}),
                     {"none": "no tanh gates: the blocks' outputs added ungated"}),
    "xattn_every": Switch(("1", "2", "5", "single"), _xattn_every, {
        "1": "a gated block before every LM layer", "2": "a gated block before every 2nd LM layer",
        "5": "a gated block before every 5th LM layer", "single": "one gated block, before the middle LM layer"}),
    "connector": Switch(("mlp", "mean"), lambda r, v: dataclasses.replace(r, perceiver={**r.perceiver, "connector": v}), {
        "mlp": "an MLP instead of the Perceiver Resampler", "mean": "mean-pooled features, linearly projected, instead of the resampler"}),
    "schedule": Switch(("round_robin",), lambda r, v: dataclasses.replace(r, schedule=v),
                       {"round_robin": "an update per data set, in turn, instead of one over all"}),
    "no_interleaved": Switch((), lambda r, v: dataclasses.replace(r, no_interleaved=True),
                             {"": "trained without the interleaved and binding sequences"}),
    "lm": Switch(("unfrozen",), lambda r, v: dataclasses.replace(r, lm=v), {"unfrozen": "the LM's layers trained too"}),
}


def parse_variant(text: str) -> tuple[str, str]:
    """``"gating=none"`` -> ("gating", "none"); ``"no_interleaved"`` -> ("no_interleaved", "");
    SpecError naming the known switches and values for anything else."""
    switch, _, value = text.partition("=")
    if switch not in SWITCHES:
        raise SpecError(f"unknown ablation switch {switch!r} (known: {', '.join(SWITCHES)})")
    values = SWITCHES[switch].values
    if (value or "") not in (values or ("",)):
        shown = "no value (a flag)" if not values else ", ".join(values)
        raise SpecError(f"ablation switch {switch}: {value!r} is not one of: {shown}")
    return switch, value


def apply_variant(recipe: Recipe, text: str) -> Recipe:
    """The recipe with one switch changed, named for it (``gating-none``, ``no_interleaved``)."""
    if recipe.variant != "baseline":
        raise SpecError(f"recipe is already the variant {recipe.variant!r}: a variant changes one switch of a baseline")
    switch, value = parse_variant(text)
    changed = SWITCHES[switch].apply(recipe, value)
    return dataclasses.replace(changed, variant=f"{switch}-{value}" if value else switch)


def describe(variant: str) -> str | None:
    """What a variant name (``gating-none``, ``xattn_every-2``) changed, in words; "the baseline" for the
    baseline; None for a name no switch makes."""
    if variant == "baseline":
        return "the baseline"
    for name, switch in SWITCHES.items():
        for value, what in switch.what.items():
            if variant == (f"{name}-{value}" if value else name):
                return what
    return None
