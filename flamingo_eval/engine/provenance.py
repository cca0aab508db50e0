"""What a result needs to be reproduced: versions, the git commit, and hashes of every input file."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from pathlib import Path
from typing import Any

from .. import __version__
from ..locations import CHECKOUT_DIR
from ..storage import file_digest, write_text_atomic

LIBRARIES = ("torch", "transformers", "safetensors", "pycocoevalcap", "datasets", "numpy", "pandas", "pillow", "av")
_HASH_CACHE = Path.home() / ".cache" / "flamingo-eval" / "file-hashes.json"


def library_versions() -> dict[str, str | None]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> str | None:
    """The commit of the checkout the package runs from (with "-dirty" if it has local changes)."""
    root = CHECKOUT_DIR
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def remembered_digest(path: Path) -> str:
    """``storage.file_digest`` of a file, remembered across runs by (path, size, mtime) in the user's
    cache folder, so large weights are hashed once."""
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    cache: dict[str, str] = {}
    try:
        cache = json.loads(_HASH_CACHE.read_text())
    except (OSError, ValueError):
        pass
    if key in cache:
        return cache[key]
    cache[key] = file_digest(path)
    try:
        _HASH_CACHE.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(_HASH_CACHE, json.dumps(cache))
    except OSError:
        pass  # a read-only home only costs re-hashing next time
    return cache[key]


def path_hashes(path: Path) -> dict[str, str]:
    """{name: sha256} of a file, or of every file in a folder (an HF model folder)."""
    path = Path(path)
    if path.is_file():
        return {path.name: remembered_digest(path)}
    return {str(p.relative_to(path)): remembered_digest(p) for p in sorted(path.rglob("*")) if p.is_file()}


def model_files(spec) -> dict[str, dict[str, str]]:
    """Hashes of the files a model spec names (its weights), by spec key; for files from the Hugging Face
    Hub also the commit each came from (``hub_commits``: spec key -> commit)."""
    from ..hub import hub_commit, is_hub_ref

    keys = {
        "vision.weights": spec.vision.weights,
        "lm.path": spec.lm.path,
        "lm.gguf": spec.lm.gguf,
        "adapters": spec.adapters,
        "lm_weights": spec.lm_weights,
        "openflamingo_checkpoint": spec.openflamingo_checkpoint,
    }
    out, commits = {}, {}
    for key, value in keys.items():
        if value is None:
            continue
        path = spec.resolve(key, value)
        out[key] = path_hashes(path)
        if is_hub_ref(value) or hub_commit(path):
            commits[key] = hub_commit(path) or "unknown"
    if commits:
        out["hub_commits"] = commits
    return out


def data_files(spec, root: Path) -> dict[str, str]:
    """Hashes of the annotation files a benchmark's splits name (image and video folders are not hashed)."""
    out = {}
    for split in (spec.data.pool, spec.data.eval):
        for value in split.values():
            if isinstance(value, str) and (root / value).is_file():
                out[value] = remembered_digest(root / value)
    return out


def package_version() -> str:
    return __version__


def describe_environment() -> dict[str, Any]:
    return {"version": package_version(), "git_commit": git_commit(), "libraries": library_versions()}
