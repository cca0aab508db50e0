"""Tokenizers: Flamingo's special tokens, and an offline byte-level tokenizer for tiny test models."""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from ..control_tokens import END_OF_CHUNK, MEDIA_TOKEN  # spelled there; also imported from here

PAD_TOKEN = "<PAD>"


@dataclass(frozen=True)
class FlamingoTokens:
    media: int  # id of <image>
    end_of_chunk: int  # id of <|endofchunk|>
    pad: int
    added: tuple[int, ...]  # ids whose embeddings are new (trainable); may include <PAD>


def add_flamingo_tokens(tokenizer: PreTrainedTokenizerBase) -> FlamingoTokens:
    """Add <|endofchunk|> and <image> (and <PAD> if the tokenizer has no pad token), in OpenFlamingo's order.

    The order fixes the new ids, which must match the rows of a released checkpoint's embeddings.
    Sets left padding, which batched generation needs.
    """
    before = len(tokenizer)
    tokenizer.add_special_tokens({"additional_special_tokens": [END_OF_CHUNK, MEDIA_TOKEN]})
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": PAD_TOKEN})
    tokenizer.padding_side = "left"
    media = tokenizer.convert_tokens_to_ids(MEDIA_TOKEN)
    eoc = tokenizer.convert_tokens_to_ids(END_OF_CHUNK)
    added = tuple(i for i in (eoc, media, tokenizer.pad_token_id) if i >= before)
    return FlamingoTokens(media=media, end_of_chunk=eoc, pad=tokenizer.pad_token_id, added=added)


def _bytes_to_symbols() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for bytes, indexed by byte value."""
    printable = set(range(ord("!"), ord("~") + 1)) | set(range(ord("¡"), ord("¬") + 1)) | set(range(ord("®"), ord("ÿ") + 1))
    symbols, extra = [], 0
    for byte in range(256):
        if byte in printable:
            symbols.append(chr(byte))
        else:
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def byte_tokenizer() -> PreTrainedTokenizerFast:
    """A tokenizer with one token per byte (ids 0-255) and </s> (256): built in memory, nothing to download."""
    vocab = {symbol: i for i, symbol in enumerate(_bytes_to_symbols())}
    vocab["</s>"] = 256
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="</s>")
