"""``generate``: write the whole demo suite under a data root, once.

Layout under ``root``: ``demo_captions/``, ``demo_vqa/``, ``demo_binding/``, ``demo_video_qa/`` (each a
benchmark's data folder, as ``--data-root root`` expects) and ``demo_manifest.json`` (version, seed,
sizes). The suite is written into ``root/.demo_staging/`` and moved into place when complete, the
manifest last, so an interrupted run leaves no half-written benchmark folder behind.

Calling ``generate`` again on a root whose manifest has the same version, seed and sizes does nothing.
A root whose manifest differs, or that has demo folders but no manifest, is an error: nothing that
another run (or a person) put there is ever deleted; choose another root or remove the folders.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from .binding import write_binding
from .captions_vqa import write_captions_and_vqa
from .files import write_json
from .video_qa import write_video_qa

DEMO_VERSION = "demo-1"  # bump whenever generated content changes, so old roots are not mistaken for new
DEMO_BENCHMARKS: tuple[str, ...] = ("demo_captions", "demo_vqa", "demo_binding", "demo_video_qa")
MANIFEST = "demo_manifest.json"
STAGING = ".demo_staging"  # generated here first, then moved into place


@dataclass(frozen=True)
class DemoSizes:
    """How many items each split gets. The defaults take about a minute to generate on 2 cores."""

    scenes_train: int = 1600  # images shared by demo_captions and demo_vqa (2-3 questions each)
    scenes_val: int = 200
    scenes_test: int = 300
    binding_train: int = 1600
    binding_val: int = 200
    binding_testpool: int = 100  # the binding benchmark's demonstration pool
    binding_test: int = 200  # the binding benchmark's queries
    video_train: int = 300  # videos (2 questions each)
    video_val: int = 60
    video_test: int = 120

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"DemoSizes.{name} must be a positive integer, got {value!r}")

    def counts(self, prefix: str) -> dict[str, int]:
        """The per-split counts of one family: ``counts("binding")`` -> {"train": 1600, ...}."""
        return {name[len(prefix) + 1:]: value for name, value in dataclasses.asdict(self).items()
                if name.startswith(prefix + "_")}


def manifest_for(seed: int, sizes: DemoSizes) -> dict[str, Any]:
    """What ``demo_manifest.json`` holds for these settings (the fields that must match to skip)."""
    return {"version": DEMO_VERSION, "seed": seed, "sizes": dataclasses.asdict(sizes),
            "benchmarks": list(DEMO_BENCHMARKS)}


def generate(root: Path | str, *, seed: int = 0, sizes: DemoSizes = DemoSizes()) -> dict[str, Path]:
    """Write the four demo benchmarks under ``root`` (unless already there) and return
    ``{benchmark name: its data folder}``.

    In: the data root, the seed (same seed and sizes -> byte-identical files), the split sizes.
    Raises ``DataError`` when ``root`` holds demo data made with other settings, or demo folders
    without a manifest (see the module docstring).
    """
    root = Path(root)
    folders = {name: root / name for name in DEMO_BENCHMARKS}
    wanted = manifest_for(seed, sizes)
    manifest = root / MANIFEST
    if manifest.is_file():
        found = _read_manifest(manifest)
        if found != wanted:
            raise DataError(f"{manifest}: demo data there was generated with {_settings(found)}, not "
                            f"{_settings(wanted)}; use another data root, or delete {manifest} and the "
                            f"{', '.join(DEMO_BENCHMARKS)} folders next to it to regenerate")
        missing = [str(path) for path in folders.values() if not path.is_dir()]
        if missing:
            raise DataError(f"{manifest} is there but {', '.join(missing)} is not; delete {manifest} to regenerate")
        return folders
    present = [str(path) for path in folders.values() if path.exists()]
    if present:
        raise DataError(f"{', '.join(present)} already exist(s) but {manifest} does not (an interrupted or "
                        f"foreign copy); delete them or use another data root")
    staging = root / STAGING
    if staging.exists():
        shutil.rmtree(staging)  # the leftovers of an interrupted run; nothing else writes there
    _write_all(staging, seed, sizes)
    for name, path in folders.items():
        os.replace(staging / name, path)
    write_json(staging / MANIFEST, wanted)
    os.replace(staging / MANIFEST, manifest)  # last: its presence means the suite is complete
    staging.rmdir()
    return folders


def _write_all(base: Path, seed: int, sizes: DemoSizes) -> None:
    """Every benchmark's files under ``base``."""
    write_captions_and_vqa(base / "demo_captions", base / "demo_vqa", seed=seed, counts=sizes.counts("scenes"))
    write_binding(base / "demo_binding", seed=seed, counts=sizes.counts("binding"))
    write_video_qa(base / "demo_video_qa", seed=seed, counts=sizes.counts("video"))


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest's content; a ``DataError`` naming it when it is not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path} is not a readable demo manifest: {err}") from err
    if not isinstance(data, dict):
        raise DataError(f"{path} is not a demo manifest (expected a JSON object)")
    return data


def _settings(manifest: dict[str, Any]) -> str:
    """A manifest's settings in a few words, for error messages."""
    return f"version {manifest.get('version')!r}, seed {manifest.get('seed')!r}, sizes {manifest.get('sizes')!r}"
