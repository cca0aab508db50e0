"""OpenFlamingo's own ``Flamingo`` (open-flamingo==2.0.1) around our pipeline's vision encoder and LM
weights, with FRESH RANDOM adapters of the reference's default sizes: the parity tests copy these into
ours (reference -> ours), so that they test our import of OpenFlamingo checkpoints. The construction
itself is the package's (flamingo_eval.bench.reference), whose ``build_reference`` goes the other way.
"""

from __future__ import annotations

import torch
from transformers import AutoConfig

from flamingo_eval.bench.reference import ReferenceFlamingo, assemble_reference, copy_language_model

# importable only after the package module has stubbed the missing wandb
from open_flamingo.train.train_utils import filter_state_dict_to_trainable  # noqa: E402

# the reference's resampler and block sizes (its constructors' defaults)
REFERENCE_PERCEIVER = {"depth": 6, "heads": 8, "dim_head": 64, "num_latents": 64, "ff_mult": 4}
REFERENCE_XATTN = {"heads": 8, "dim_head": 64, "ff_mult": 4}

PROMPTS = [  # several images per sequence, different lengths -> left padding
    "<image>A cat.<|endofchunk|><image>A dog sits.<|endofchunk|><image>A",
    "<image>x<|endofchunk|><image>yy<|endofchunk|><image>Output: a bird on a branch",
    "<image>One.<|endofchunk|><image>Two.<|endofchunk|><image>",
]


def build_reference(ours, lm_config: dict, every_n_layers: int, seed: int = 1) -> ReferenceFlamingo:
    """A reference Flamingo with our pipeline's vision encoder and LM weights (the LM built from
    ``lm_config``) and freshly random adapters with gates opened; load ``reference_checkpoint(ref)`` into
    ours to give both the same weights."""
    assert every_n_layers == ours.model.xattn_config.every_n_layers, "the reference follows our model's layout"
    fields = dict(lm_config)
    lm = copy_language_model(ours, AutoConfig.for_model(fields.pop("model_type"), **fields))
    torch.manual_seed(seed)
    ref = assemble_reference(ours, lm, spec_sizes=False)
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


def reference_inputs(ours, noise, prompts):
    """Prompts of three images each -> (ids, mask) left-padded, our pixels per prompt, and the same pixels
    as the reference's vision_x."""
    ids, mask = ours.encode_prompts(prompts)
    pixels = [[ours.pixels(noise[(b + i) % len(noise)]) for i in range(3)] for b in range(len(prompts))]
    vision_x = torch.stack([torch.stack(p) for p in pixels])  # (B, T_img, F=1, 3, H, W), the reference's layout
    return ids, mask, pixels, vision_x
