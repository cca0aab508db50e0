"""Seeded random generators for the demo data, one per item.

Every item (a scene, a video, a binding image) draws from its own generators, derived from the suite's
seed and the item's keys (benchmark, split, index) with SHA-256. So an item does not depend on how many
random numbers the items before it used, the same seed gives the same files on every machine and Python
version, and an item can be regenerated alone (as the tests do). No global RNG is ever touched.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np


def _digest(seed: int, keys: tuple[object, ...]) -> bytes:
    """SHA-256 of the seed and keys; ``repr`` keeps ("a", 1) and ("a1",) apart."""
    return hashlib.sha256(repr((seed, *keys)).encode("utf-8")).digest()


def item_rng(seed: int, *keys: object) -> random.Random:
    """A ``random.Random`` for the item named by ``keys`` under ``seed`` (choices, shuffles, layouts)."""
    return random.Random(_digest(seed, ("py", *keys)))  # bytes seeds are hashed deterministically


def item_np_rng(seed: int, *keys: object) -> np.random.Generator:
    """A numpy ``Generator`` for the item named by ``keys`` under ``seed`` (pixel noise)."""
    return np.random.default_rng(int.from_bytes(_digest(seed, ("np", *keys))[:16], "little"))
