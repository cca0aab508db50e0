"""Training sequences: image-text chunks rendered with the evaluation's own prompt templates.

A chunk is ``<image>`` + prompt + answer + ``<|endofchunk|>`` + separator. Each chunk is tokenised as
(prompt, answer, end) pieces and the pieces concatenated, which is exactly how the evaluation splits a
query: the prompt is tokenised, then the model writes the answer. Pairs are one-chunk sequences;
interleaved sequences of several chunks (the paper's M3W role) teach the model to use demonstrations.
For concept binding the kinds in a sequence get freshly drawn made-up names, so the names can only be
learned from the sequence itself; the first time a name appears it cannot be predicted, so that answer
carries no loss (its gradient would only push towards a prior over made-up words) and the loss of a
binding sequence is exactly the in-context part: naming a kind the sequence has already named.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..data.example import Example, MediaRef
from ..model.tokenizer import END_OF_CHUNK
from ..prompting.render import PromptTemplate, render_item

IGNORE = -100  # label of tokens that carry no loss: media markers and padding
_CONSONANTS, _VOWELS = "bdfgklmnprstvwz", "aeiou"


@dataclass(frozen=True)
class Chunk:
    media: MediaRef
    prompt: str  # the item up to where the answer goes, <image> marker included
    answer: str
    learn_answer: bool = True  # False: the answer carries no loss (a made-up name seen for the first time)


@dataclass(frozen=True)
class TokenSequence:
    ids: list[int]
    labels: list[int]  # ids, or IGNORE where no loss is taken
    media: list[MediaRef]  # one per <image>
    answer_span: tuple[int, int]  # [start, end) of the last chunk's answer tokens (validation scores it)


def made_up_word(rng: random.Random, exclude: frozenset[str] = frozenset()) -> str:
    """A pronounceable nonsense word (CVC or CVCVC), like Frozen's "dax" and "blicket", never one of
    ``exclude`` (the demo suite's own names, so its held-out test names are never seen in training)."""
    while True:
        syllables = rng.choice((1, 2))
        word = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables)) + rng.choice(_CONSONANTS)
        if word not in exclude:
            return word


class SourceSampler:
    """Draws chunks from one source's examples."""

    def __init__(self, examples: Sequence[Example], template: PromptTemplate, *, rename: bool,
                 answer_loss_only: bool = False) -> None:
        if not examples:
            raise ValueError("a training source has no examples")
        self.examples, self.template, self.rename = list(examples), template, rename
        self.answer_loss_only = answer_loss_only
        self.by_kind: dict[str, list[Example]] = defaultdict(list)
        for ex in self.examples:
            self.by_kind[str(ex.meta.get("question_type") or ex.target)].append(ex)

    def chunk(self, example: Example, answer: str) -> Chunk:
        prompt = render_item(self.template, example, "")  # the answer slot ends the template
        if len(example.media) != 1:
            raise ValueError(f"training example {example.id} has {len(example.media)} media; chunks take one")
        return Chunk(media=example.media[0], prompt=prompt, answer=answer)

    def answer(self, example: Example, rng: random.Random) -> str:
        """A caption at random among the references (more caption text), else the demonstration target."""
        if example.question is None and example.references:
            return rng.choice(example.references).strip()
        return example.target or ""

    def draw(self, n: int, rng: random.Random) -> list[Chunk]:
        if not self.rename:
            return [self.chunk(ex, self.answer(ex, rng)) for ex in rng.sample(self.examples, n)]
        # concept binding: two kinds with fresh names, each demonstration's kind drawn independently (as
        # random demonstrations fall at evaluation, so some sequences show one kind far more often than
        # the other); the query's kind is one the demonstrations showed
        kinds = rng.sample(sorted(self.by_kind), 2)
        names = dict(zip(kinds, _distinct_words(rng, 2)))
        order = [rng.choice(kinds) for _ in range(n - 1)]
        order.append(rng.choice(order) if order else kinds[0])
        seen: set[str] = set()
        chunks = []
        for kind in order:
            chunks.append(dataclasses.replace(self.chunk(rng.choice(self.by_kind[kind]), names[kind]), learn_answer=kind in seen))
            seen.add(kind)
        return chunks


def _distinct_words(rng: random.Random, n: int) -> list[str]:
    from ..demo.vocab import NONSENSE_NAMES

    words: list[str] = []
    while len(words) < n:
        word = made_up_word(rng, frozenset(NONSENSE_NAMES))
        if word not in words:
            words.append(word)
    return words


def tokenize(chunks: Sequence[Chunk], tokenizer, separator: str, *, answer_loss_only: bool = False) -> TokenSequence:
    """Token ids and labels of chunks concatenated; media markers carry no loss (as in OpenFlamingo), nor
    do the prompts with ``answer_loss_only``."""
    media_id = tokenizer.convert_tokens_to_ids("<image>")
    ids: list[int] = []
    labels: list[int] = []
    span = (0, 0)
    for chunk in chunks:
        prompt = tokenizer(chunk.prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(chunk.answer, add_special_tokens=False)["input_ids"]
        end = tokenizer(END_OF_CHUNK + separator, add_special_tokens=False)["input_ids"]
        span = (len(ids) + len(prompt), len(ids) + len(prompt) + len(answer))
        ids += prompt + answer + end
        labels += [IGNORE if t == media_id or answer_loss_only else t for t in prompt]
        labels += answer if chunk.learn_answer else [IGNORE] * len(answer)
        labels += end
    return TokenSequence(ids=ids, labels=labels, media=[c.media for c in chunks], answer_span=span)


def collate(sequences: Sequence[TokenSequence], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded (B, T) ids, attention mask and labels."""
    width = max(len(s.ids) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    labels = torch.full_like(ids, IGNORE)
    mask = torch.zeros_like(ids)
    for b, s in enumerate(sequences):
        ids[b, : len(s.ids)] = torch.tensor(s.ids)
        labels[b, : len(s.labels)] = torch.tensor(s.labels)
        mask[b, : len(s.ids)] = 1
    return ids, mask, labels
