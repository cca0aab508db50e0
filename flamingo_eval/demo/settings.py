"""The settings of the demo sweep (``flamingo-eval demo``), defined once: the CLI's defaults and the
API read them, and the committed reference results were made with them."""

from __future__ import annotations

from ..locations import CHECKOUT_DIR

# Enough queries that every cell of the sweep has at least 100 scored (trials x queries), at shot
# counts past the longest training sequence (8 demonstrations).
DEMO_SHOTS = (0, 4, 16)
DEMO_TRIALS = 3
DEMO_QUERIES = 34  # per benchmark and trial: 3 x 34 = 102 scored queries a cell
DEMO_MODEL = "smol-flamingo"

DEMO_REFERENCE = CHECKOUT_DIR / "results" / "demo-sweep"  # committed: the trained model, made by `flamingo-eval demo`
DEMO_UNTRAINED = CHECKOUT_DIR / "results" / "demo-untrained"  # committed: the same sweep with untrained adapters (`smol`)
