"""OpenFlamingo's own model (open-flamingo==2.0.1) with exactly the weights of one of ours, and a runner
that answers a batch the way OpenFlamingo's evaluation code does: the reference the ``bench`` command
times our harness against.

Nothing of open_flamingo is copied: its ``Flamingo``, ``PerceiverResampler`` and
``GatedCrossAttentionBlock`` are imported and called. Importing this module does two things to the
process, both needed to run open_flamingo here:

- open_flamingo's package imports ``open_clip`` (and its train utils ``wandb``), which it declares but
  which are not installed (it is installed ``--no-deps``); neither is used by the code run here, so a
  missing one is replaced by an empty module.
- under transformers 5.x, ``generate()`` drops an all-ones attention mask, while the reference LM's
  ``forward`` requires the argument: it gets the default ``None`` it needs.

Known differences the reference cannot avoid (so it refuses or documents them): OpenFlamingo's blocks
always run their dense part on every token (no ``xattn.dense_without_media: false``), and with
``xattn.attend: all`` its text before the first image attends to all images where ours attends to none.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import types
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
from PIL import Image
from torch import nn
from transformers import AutoModelForCausalLM, PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from ..errors import WeightsError
from ..model.config import PerceiverConfig, XAttnConfig
from ..model.generate import GenerationConfig, cut_after_stop
from ..model.pipeline import FlamingoPipeline
from ..model.vision.base import ImageTransform
from ..model.weights import openflamingo_state_dict


def _stub_missing_modules(*names: str) -> None:
    """Put an empty module in place of each named module that is not installed (never over a real one)."""
    for name in names:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            sys.modules[name] = types.ModuleType(name)


_stub_missing_modules("open_clip", "wandb")
try:
    from open_flamingo.src.flamingo import Flamingo as ReferenceFlamingo
    from open_flamingo.src.flamingo_lm import FlamingoLMMixin
    from open_flamingo.src.helpers import GatedCrossAttentionBlock, PerceiverResampler
    from open_flamingo.src.utils import extend_instance
except ImportError as error:  # a test/bench-only dependency
    raise ImportError(
        "the OpenFlamingo reference needs open-flamingo==2.0.1 (pip install --no-deps, see requirements-nodeps.txt) "
        f"and einops, einops-exts: {error}"
    ) from error

FlamingoLMMixin.forward.__defaults__ = (None,)  # attention_mask=None: see the module docstring


# ---------------------------------------------------------------- building the reference model
class _VisualTower(nn.Module):
    """Our vision encoder as OpenFlamingo calls open_clip's visual tower (``output_tokens=True``):
    (N, 3, H, W) pixels -> (pooled, (N, v, d) tokens); only the tokens are used, so pooled is None.

    Pixels go to the encoder in its own dtype and the tokens come out in the resampler's (``features_dtype``),
    as in our Flamingo, whose encoder stays float32 when the adapters run in bfloat16.
    """

    def __init__(self, encoder: nn.Module, features_dtype: torch.dtype) -> None:
        super().__init__()
        self.encoder = encoder
        self.features_dtype = features_dtype

    def forward(self, pixels: torch.Tensor) -> tuple[None, torch.Tensor]:
        tokens = self.encoder(pixels.to(next(self.encoder.parameters()).dtype))
        return None, tokens.to(self.features_dtype)


def copy_language_model(pipe: FlamingoPipeline, config: PretrainedConfig | None = None) -> PreTrainedModel:
    """A separate copy of the pipe's LM, for the reference to wrap (OpenFlamingo changes the LM's class
    and decoder layers in place, so it cannot share ours).

    Built from ``config`` (default: a copy of our LM's own config), resized to the tokenizer as
    OpenFlamingo's factory resizes it, then loaded with our LM's state dict on our LM's device and dtype.
    """
    ours = pipe.model.lm
    config = copy.deepcopy(ours.config) if config is None else config
    lm = AutoModelForCausalLM.from_config(config, trust_remote_code=pipe.spec.lm.trust_remote_code)
    lm.resize_token_embeddings(len(pipe.tokenizer), mean_resizing=False)
    lm.to(device=ours.device, dtype=ours.dtype)
    lm.load_state_dict(ours.state_dict())
    return lm.requires_grad_(False).eval()


def assemble_reference(pipe: FlamingoPipeline, lm: PreTrainedModel, *, spec_sizes: bool = True) -> ReferenceFlamingo:
    """OpenFlamingo's ``Flamingo`` around the pipe's vision encoder (shared, not copied) and ``lm`` (a copy
    holding our LM's weights, see ``copy_language_model``), with fresh adapters drawn from the torch RNG.

    The resampler and gated blocks have our model's sizes, or with ``spec_sizes=False`` the reference's
    own defaults (its constructors'). Parameters are frozen as OpenFlamingo's factory freezes them
    (resampler, gated blocks and input embeddings trainable), so that its checkpoint filter keeps exactly
    what a training run saves.
    """
    ours = pipe.model
    extend_instance(lm, FlamingoLMMixin)
    lm.set_decoder_layers_attr_name(ours.decoder_layers_path)
    tower = _VisualTower(ours.vision, features_dtype=ours.perceiver.latents.dtype)
    ref = ReferenceFlamingo(
        types.SimpleNamespace(visual=tower), lm, ours.end_of_chunk_token_id, ours.media_token_id,
        vis_dim=ours.vision.dim, cross_attn_every_n_layers=ours.xattn_config.every_n_layers,
    )
    if spec_sizes:
        _rebuild_adapters(ref, ours.perceiver_config, ours.xattn_config)
    # the new modules are made on the CPU in float32: place them as ours are placed
    xattn_dtype = next(ours.xattn.parameters(), ours.perceiver.latents).dtype
    ref.perceiver.to(device=pipe.device, dtype=ours.perceiver.latents.dtype)
    ref.lang_encoder.gated_cross_attn_layers.to(device=pipe.device, dtype=xattn_dtype)
    ref.requires_grad_(False)
    ref.perceiver.requires_grad_(True)
    ref.lang_encoder.gated_cross_attn_layers.requires_grad_(True)
    ref.lang_encoder.get_input_embeddings().requires_grad_(True)
    return ref


def _rebuild_adapters(ref: ReferenceFlamingo, perceiver: PerceiverConfig, xattn: XAttnConfig) -> None:
    """Replace the reference's default-sized resampler and gated blocks by OpenFlamingo's own classes
    built at our sizes (its ``Flamingo`` constructor takes no sizes)."""
    if not xattn.dense_without_media:
        raise ValueError("OpenFlamingo's gated blocks always apply their dense part: a model with "
                         "xattn.dense_without_media false has no OpenFlamingo reference")
    ref.perceiver = PerceiverResampler(
        dim=ref.vis_dim, depth=perceiver.depth, dim_head=perceiver.dim_head, heads=perceiver.heads,
        num_latents=perceiver.num_latents, max_num_frames=perceiver.max_frames, ff_mult=perceiver.ff_mult,
    )
    ref.perceiver._use_gradient_checkpointing = False  # as the constructor sets it
    lang = ref.lang_encoder
    lang.gated_cross_attn_layers = nn.ModuleList(
        None if block is None else GatedCrossAttentionBlock(
            dim=ref.lang_dim, dim_visual=ref.vis_dim, dim_head=xattn.dim_head, heads=xattn.heads,
            ff_mult=xattn.ff_mult, only_attend_immediate_media=xattn.attend == "last",
        )
        for block in lang.gated_cross_attn_layers  # None where no block goes: keeps every_n_layers' layout
    )
    lang.init_flamingo_layers(False)  # re-wrap the decoder layers around the new blocks


def load_into_reference(ref: ReferenceFlamingo, state: dict[str, torch.Tensor]) -> None:
    """Load an OpenFlamingo-keyed state dict (``openflamingo_state_dict``) into the reference, strictly for
    the adapters: every key must be one of the reference's, and every resampler and gated block
    parameter must be given (mis-shaped tensors raise in ``load_state_dict`` itself)."""
    # strict=False because the frozen LM and vision weights are not in such a state dict; the aliases under
    # lang_encoder.gated_cross_attn_layers are the same tensors as the gated_cross_attn_layer keys
    result = ref.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if k.startswith("perceiver.") or ".gated_cross_attn_layer." in k]
    if missing or result.unexpected_keys:
        raise WeightsError(
            "our weights do not fit the OpenFlamingo reference: "
            f"missing {missing[:5]}, unexpected {result.unexpected_keys[:5]}"
        )


def build_reference(pipe: FlamingoPipeline, *, lm: PreTrainedModel | None = None) -> ReferenceFlamingo:
    """OpenFlamingo's ``Flamingo`` with exactly the weights of ``pipe``'s model: the pipe's vision encoder,
    a copy of its LM (or ``lm``, a model already holding our LM's weights), and OpenFlamingo's resampler
    and gated blocks at our sizes loaded with our adapters and embeddings. In eval mode, all frozen.
    The caller's torch RNG is left as it was.
    """
    with torch.random.fork_rng(devices=[]):  # the throw-away random init must not shift the caller's RNG
        ref = assemble_reference(pipe, copy_language_model(pipe) if lm is None else lm)
    load_into_reference(ref, openflamingo_state_dict(pipe.model, pipe.tokens.added))
    return ref.requires_grad_(False).eval()


# ---------------------------------------------------------------- answering a batch
class ReferenceOutput(NamedTuple):
    """What the reference answers for a batch; unpacks as ``texts, token_ids``."""

    texts: list[str]  # each row's new text, decoded with skip_special_tokens as OpenFlamingo's eval does
    token_ids: list[list[int]]  # each row's new token ids, cut after the first stop token (kept)


def load_vision_x(image_paths: Sequence[Sequence[str | Path]], transform: ImageTransform) -> torch.Tensor:
    """Each prompt's image files, in prompt order -> (B, T_img, 1, 3, H, W) pixels, zero-padded to the
    batch's largest image count, as OpenFlamingo's eval stacks them. Every image is read from disk and
    transformed on every call: the reference caches nothing."""
    width = max((len(paths) for paths in image_paths), default=0)
    if width == 0:
        raise ValueError("OpenFlamingo's model needs at least one image in the batch")
    batch: torch.Tensor | None = None
    for b, paths in enumerate(image_paths):
        for t, path in enumerate(paths):
            with Image.open(path) as image:
                pixels = transform(image.convert("RGB"))  # (3, H, W)
            if batch is None:
                batch = pixels.new_zeros((len(image_paths), width, 1, *pixels.shape))
            batch[b, t, 0] = pixels
    return batch  # type: ignore[return-value]


def tokenize_left_padded(tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts -> (B, T) ids and attention mask, left-padded to the longest, as OpenFlamingo's eval does
    (without mutating the tokenizer's own padding side)."""
    batch = tokenizer(list(prompts), padding="longest", padding_side="left", return_tensors="pt")
    return batch["input_ids"], batch["attention_mask"]


class ReferenceRunner:
    """Answers batches with OpenFlamingo's model as OpenFlamingo's evaluation code does: images loaded and
    transformed per call, text tokenised with left padding, ``Flamingo.generate`` under inference mode.
    Nothing is cached between calls."""

    def __init__(self, reference: ReferenceFlamingo, pipe: FlamingoPipeline) -> None:
        """``reference`` from ``build_reference(pipe)``. Of ``pipe`` only the tokenizer, tokens, transform
        and stop tokens are used, so its own model may be dropped once the reference is built."""
        self.reference = reference
        self.pipe = pipe

    def generate(
        self,
        prompts: Sequence[str],
        image_paths: Sequence[Sequence[str | Path]],
        config: GenerationConfig = GenerationConfig(),
        *,
        stop_token_ids: Sequence[int] | None = None,
    ) -> ReferenceOutput:
        """Rendered prompts (``<image>`` markers, ``<|endofchunk|>``) and each prompt's image files
        (demonstrations, then the query) -> each row's new text and token ids. ``stop_token_ids``
        defaults to the pipe's (<|endofchunk|> and the LM's EOS)."""
        if len(prompts) != len(image_paths):
            raise ValueError(f"{len(prompts)} prompts but image lists for {len(image_paths)}")
        stops = list(self.pipe.stop_token_ids() if stop_token_ids is None else stop_token_ids)
        device = self.reference.perceiver.latents.device
        vision_x = load_vision_x(image_paths, self.pipe.transform).to(device)
        ids, mask = tokenize_left_padded(self.pipe.tokenizer, prompts)
        out = self._generate(vision_x, ids.to(device), mask.to(device), config, stops)
        new = out[:, ids.shape[1]:]  # (B, new tokens): generate returns the prompt, then the new tokens
        return ReferenceOutput(
            texts=self.pipe.tokenizer.batch_decode(new, skip_special_tokens=True),
            token_ids=[cut_after_stop(row, stops) for row in new.tolist()],
        )

    def _generate(
        self, vision_x: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, config: GenerationConfig, stops: list[int]
    ) -> torch.Tensor:
        """(B, T_img, 1, 3, H, W) pixels, (B, T) ids and mask -> (B, T + new) ids from the reference's own
        generate, called with the settings OpenFlamingo's eval passes."""
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                # the reference LM is still called with past_key_values=, which transformers 5.x deprecates
                warnings.filterwarnings("ignore", message="`past_key_values` is deprecated", category=FutureWarning)
                return self.reference.generate(
                    vision_x, ids, attention_mask=mask, min_new_tokens=config.min_new_tokens,
                    max_new_tokens=config.max_new_tokens, num_beams=config.num_beams,
                    length_penalty=config.length_penalty, do_sample=False,
                    eos_token_id=stops, pad_token_id=self.pipe.tokens.pad,
                )
        except BaseException:
            self.reference.uncache_media()  # a failed generate leaves the reference's layers conditioned
            raise
