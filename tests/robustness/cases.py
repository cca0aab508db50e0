"""What the fuzz suite shares: the wrong values every field is tried with, JSON mutations by key path,
and the one check every case ends in (a named error, a listed skip, or a sane result; never another
exception type)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flamingo_eval.control_tokens import CONTROL_TOKENS
from flamingo_eval.data.formats import Problems, read_examples
from flamingo_eval.errors import DataError, FlamingoEvalError

DELETE = "delete"
# name -> a value of the wrong type or a hostile value, put in place of a field's own value
WRONG_VALUES: dict[str, Any] = {
    "none": None,
    "int": 3,
    "float": 2.5,
    "bool": True,
    "list": [],
    "dict": {},
    "empty": "",
    "image-token": "<image>",
    "chunk-token": "done <|endofchunk|> next",
    "long": "x" * 5000,  # longer than a file name may be
    "surrogate": "caf\udce9",  # what JSON's "\udce9" gives: not valid Unicode, as a non-UTF-8 byte would be
}
MUTATIONS = (DELETE, *WRONG_VALUES)
_ALWAYS = {DELETE, "none", "int", "float", "bool", "list", "dict", "empty"}
_TOKENS = {"image-token", "chunk-token", "surrogate"}
# which mutations a field of each kind must refuse (the others may be accepted or refused, named)
MUST_REFUSE: dict[str, set[str]] = {
    "text": _ALWAYS | _TOKENS,  # a question, caption or answer: reaches the prompt
    "answer": (_ALWAYS - {"empty"}) | _TOKENS,  # an annotator's answer: may be blank
    "answer-item": (_ALWAYS - {"empty", DELETE}) | _TOKENS,  # an element of a list of answers
    "id": _ALWAYS - {"int"},
    "id-fallback": _ALWAYS - {"int", DELETE},  # an id with a fallback key (Karpathy: cocoid, else imgid)
    "name": set(MUTATIONS),  # names a media file: any change leaves nothing to find
    "optional-name": set(MUTATIONS) - {DELETE},
    "all": set(MUTATIONS),  # a required structure (an answer list, a segment, a join key)
    "optional-join": set(MUTATIONS) - {DELETE},  # optional, but must agree with the other file
    "filter": _ALWAYS,  # a split name the entry filters on: another text just leaves the record out
    "optional-text": {"int", "float", "bool", "list", "dict"},  # results group rows by it
    "seconds": set(MUTATIONS) - {"int", "float"},  # a time in a video: another number may be a valid one
    "free": set(),  # carried in meta or unused: anything goes
}


# ---------------------------------------------------------------- JSON mutation by key path

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def mutate(holder: Any, path: str, mutation: str) -> None:
    """Delete the field at ``path`` (``answers[0].answer``) under ``holder``, or replace its value by
    the wrong value named ``mutation``; in place."""
    *parents, last = _steps(path)
    for step in parents:
        holder = holder[step]
    if mutation == DELETE:
        del holder[last]
    else:
        holder[last] = copy.deepcopy(WRONG_VALUES[mutation])


def new_label(mutation: str) -> set[str]:
    """The label a record gets when its id field is given this mutation's value (ids are ints or text)."""
    value = WRONG_VALUES.get(mutation)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        return set()
    return {str(value)}


# ---------------------------------------------------------------- the checks


def read_or_refuse(fmt: str, root: Path, entry: dict, files: Iterable[Path], labels: set[str] | None,
                   *, must_refuse: bool = False) -> str:
    """Read a split strictly, then with skipping; returns "refused" or "accepted".

    A refusal must be a ``FlamingoEvalError`` whose message names one of ``files``. When it is a record's
    (``<file>: record <id>: ...``), the id must be one of ``labels`` (when given), and the skipping read
    must succeed and list that very (file, id). A file-level error must stay an error when skipping.
    Whatever is accepted must be sane (``assert_sane``). Any other exception fails the test.
    """
    files = [str(f) for f in files]
    try:
        examples = read_examples(fmt, root, entry)
    except FlamingoEvalError as err:
        message = str(err)
        assert any(f in message for f in files), f"the error does not name the file: {message[:300]}"
        named = next(((f, m.group(1)) for f in files if (m := re.match(re.escape(f) + r": record (.*?): ", message, re.DOTALL))),
                     None)
        problems = Problems(skip=True)
        if named is None:  # a problem of the whole file: skipping cannot help
            try:
                read_examples(fmt, root, entry, problems)
            except FlamingoEvalError as again:
                assert str(again) == message
            else:
                raise AssertionError(f"a file-level error vanished when skipping: {message[:300]}")
            return "refused"
        assert labels is None or named[1] in labels, f"record {named[1][:80]!r} not in {sorted(labels)[:6]}: {message[:300]}"
        kept = read_examples(fmt, root, entry, problems)
        assert (named[0], named[1]) in {(s.file, s.id) for s in problems.skipped}, message[:300]
        assert_sane(kept)
        return "refused"
    assert not must_refuse, f"accepted; {fmt} should have refused it"
    assert_sane(examples)
    return "accepted"


def assert_sane(examples) -> None:
    """What an accepted example must be: text ids, existing media, prompt text free of control tokens."""
    for example in examples:
        assert isinstance(example.id, str) and example.id
        assert example.media and all(Path(ref.path).is_file() for ref in example.media)
        texts = [example.question, example.target, *example.references, *example.options]
        for text in texts:
            assert text is None or isinstance(text, str)
            if text is not None:
                assert not any(token in text for token in CONTROL_TOKENS), text
                text.encode("utf-8")  # raises for a lone surrogate


def file_error(call, path: Path, error: type[FlamingoEvalError] = DataError) -> str:
    """``call()`` must raise ``error`` naming ``path``; returns the message."""
    try:
        call()
    except error as err:
        assert str(path) in str(err), f"{error.__name__} does not name {path}: {err}"
        return str(err)
    raise AssertionError(f"no {error.__name__} for {path}")


# ways a binary file (weights, cache shards) gets damaged: each must give a named error or a recompute
DAMAGE = {
    "empty": lambda data: b"",
    "cut-8": lambda data: data[:8],
    "cut-half": lambda data: data[: len(data) // 2],
    "cut-last-byte": lambda data: data[:-1],
    "garbage": lambda data: bytes((i * 73 + 41) % 256 for i in range(len(data))),
}
