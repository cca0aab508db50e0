"""Build OpenFlamingo's own ``Flamingo`` (open-flamingo==2.0.1) around the same weights as ours.

open_flamingo's package imports open_clip (and its train utils import wandb), which cannot be installed
here; neither is used by the code under test, so they are replaced by empty modules before import.
"""

from __future__ import annotations

import sys
import types

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM

for _name in ("open_clip", "wandb"):
    sys.modules.setdefault(_name, types.ModuleType(_name))

from open_flamingo.src.flamingo import Flamingo as ReferenceFlamingo  # noqa: E402
from open_flamingo.src.flamingo_lm import FlamingoLMMixin  # noqa: E402
from open_flamingo.src.utils import extend_instance  # noqa: E402
from open_flamingo.train.train_utils import filter_state_dict_to_trainable  # noqa: E402

# Under transformers 5.x, generate() drops an all-ones attention mask while the reference LM's forward
# requires the argument: give it the default None it would need.
FlamingoLMMixin.forward.__defaults__ = (None,)

# the reference's resampler and block sizes (its constructors' defaults)
REFERENCE_PERCEIVER = {"depth": 6, "heads": 8, "dim_head": 64, "num_latents": 64, "ff_mult": 4}
REFERENCE_XATTN = {"heads": 8, "dim_head": 64, "ff_mult": 4}


class _Tower(nn.Module):
    """open_clip's visual tower with output_tokens=True returns (pooled, tokens)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, pixels: torch.Tensor):
        return None, self.encoder(pixels)


class _Clip(nn.Module):
    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.visual = _Tower(encoder)


def build_reference(ours, lm_config: dict, every_n_layers: int, seed: int = 1) -> ReferenceFlamingo:
    """A reference Flamingo with our pipeline's vision encoder and LM weights and freshly random adapters
    with gates opened; call ``load_into_ours`` to copy its adapters into ours."""
    fields = dict(lm_config)
    lm = AutoModelForCausalLM.from_config(AutoConfig.for_model(fields.pop("model_type"), **fields))
    lm.resize_token_embeddings(len(ours.tokenizer), mean_resizing=False)
    lm.load_state_dict(ours.model.lm.state_dict())
    extend_instance(lm, FlamingoLMMixin)
    lm.set_decoder_layers_attr_name(ours.model.decoder_layers_path)
    torch.manual_seed(seed)
    ref = ReferenceFlamingo(
        _Clip(ours.model.vision), lm, ours.tokens.end_of_chunk, ours.tokens.media,
        vis_dim=ours.model.vision.dim, cross_attn_every_n_layers=every_n_layers,
    )
    # freeze as OpenFlamingo's factory does, so its own checkpoint filter keeps what a real run saves
    ref.requires_grad_(False)
    ref.perceiver.requires_grad_(True)
    ref.lang_encoder.gated_cross_attn_layers.requires_grad_(True)
    ref.lang_encoder.get_input_embeddings().requires_grad_(True)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for block in ref.lang_encoder.gated_cross_attn_layers:
            if block is not None:
                block.attn_gate.copy_(0.5 + torch.rand(1, generator=g))
                block.ff_gate.copy_(0.5 + torch.rand(1, generator=g))
        # new token rows: distinct random values, so a row mix-up would show
        emb = ref.lang_encoder.get_input_embeddings().weight
        for token in ours.tokens.added:
            emb[token] = torch.randn(emb.shape[1], generator=g) * emb.std()
    return ref.eval()


def reference_checkpoint(ref: ReferenceFlamingo) -> dict[str, torch.Tensor]:
    """The state dict exactly as OpenFlamingo's training script saves it to checkpoint.pt."""
    return filter_state_dict_to_trainable(ref, ref.state_dict())
