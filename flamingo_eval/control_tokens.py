"""The model's control tokens, spelled once. Prompt templates use them; data text must never hold them.

They live in this dependency-free module (re-exported by ``model.tokenizer``) so that the data readers,
which refuse records whose text holds them, need not import torch or transformers.
"""

MEDIA_TOKEN = "<image>"  # stands for the next image or video of the prompt
END_OF_CHUNK = "<|endofchunk|>"  # ends a demonstration's answer

CONTROL_TOKENS = (MEDIA_TOKEN, END_OF_CHUNK)
