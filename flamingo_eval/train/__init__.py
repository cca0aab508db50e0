"""The training recipe of the built-in ``smol-flamingo``: frozen vision encoder and LM, trained
resampler, gated blocks and new token embeddings (``flamingo-eval train``)."""
