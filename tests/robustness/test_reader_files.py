"""Every data file of every reader broken as a whole (missing, a folder, empty, cut off, not UTF-8, a
byte-order mark, the wrong top-level JSON), and every reader's media missing or corrupt: a named error
(the file; the record when it is one record's), a listed skip, or a sane result; never another type."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from flamingo_eval.data.formats import read_examples
from flamingo_eval.data.media import load_media
from flamingo_eval.errors import MediaError

from ..data.test_classification_readers import hateful, imagenet
from ..data.test_readers import coco, textvqa, vizwiz, vqa
from ..data.test_star_reader import star
from ..data.test_video_readers import ivqa, msrvtt, msvd, nextqa, youcook
from .cases import file_error, read_or_refuse
from .readers_hf import hf_parquet
from .sites import vatex

# (case name, reader format, fixture builder, entry key of the file broken, its kind)
FILES = [
    ("karpathy", "karpathy", coco, "annotations", "json"),
    ("vqa-questions", "vqa", vqa, "questions", "json"),
    ("vqa-annotations", "vqa", vqa, "annotations", "json"),
    ("textvqa", "textvqa", textvqa, "annotations", "json"),
    ("vizwiz", "vizwiz", lambda root: vizwiz(root)[0], "annotations", "json"),
    ("msrvtt_qa", "msrvtt_qa", msrvtt, "annotations", "json"),
    ("msvd_qa", "msvd_qa", msvd, "annotations", "json"),
    ("msvd_qa-mapping", "msvd_qa", msvd, "mapping", "text"),
    ("ivqa", "ivqa", ivqa, "annotations", "text"),
    ("nextqa", "nextqa", nextqa, "annotations", "text"),
    ("nextqa-mapping", "nextqa", nextqa, "mapping", "json"),
    ("vatex", "video_captions", vatex, "annotations", "json"),
    ("youcook2", "video_captions", youcook, "annotations", "json"),
    ("hf-parquet", "hf", hf_parquet, "path", "binary"),
    ("star", "star", star, "annotations", "json"),
    ("hateful_memes", "hateful_memes", hateful, "annotations", "text"),  # JSON lines: a cut line is one bad record
    ("imagenet-names", "imagenet", imagenet, "class_names", "json"),
]
TOP_LEVEL = {"list": b"[]", "object": b"{}", "text": b'"text"', "number": b"3", "null": b"null", "true": b"true",
             "mixed-list": b'[1, "a", null, [], {}]', "object-of-numbers": b'{"a": 1, "b": 2}',
             "deep": b"[" * 100_000 + b"]" * 100_000}


def _damage(name: str) -> Callable[[bytes], bytes] | None:
    """The byte-level damage named ``name`` (None: it is not one)."""
    cuts = {"cut-quarter": 0.25, "cut-half": 0.5, "cut-three-quarters": 0.75}
    if name in cuts:
        return lambda data: data[: int(len(data) * cuts[name])]
    return {
        "empty": lambda data: b"",
        "cut-last-byte": lambda data: data[:-1],
        "not-utf8": lambda data: data[: len(data) // 2] + b"\xff\xfe" + data[len(data) // 2:],
        "garbage": lambda data: bytes((i * 73 + 41) % 256 for i in range(len(data))),
    }.get(name)


# damage -> must it be refused (as a whole file), per file kind; None: a named refusal or a sane result
REFUSED = {
    "missing": True, "folder": True, "empty": True, "not-utf8": True, "garbage": True,
    "cut-quarter": "json", "cut-half": "json", "cut-three-quarters": "json", "cut-last-byte": "json",
}
FILE_CASES = [pytest.param(*site, damage, id=f"{site[0]}:{damage}") for site in FILES
              for damage in ("bom", *REFUSED) if damage not in ("bom", "not-utf8") or site[4] != "binary"]
FILE_CASES += [pytest.param(*site, f"top-{top}", id=f"{site[0]}:top-{top}") for site in FILES if site[4] == "json" for top in TOP_LEVEL]


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """Each reader's valid fixture, written once; every case works on a copy."""
    made = {}

    def get(name, build):
        if name not in made:
            root = tmp_path_factory.mktemp(name)
            made[name] = root, build(root)
        return made[name]

    return get


def _copy(originals, name, build, tmp_path) -> tuple[Path, dict]:
    source, entry = originals(name, build)
    root = tmp_path / "data"
    shutil.copytree(source, root)
    return root, entry


@pytest.mark.parametrize("name,fmt,build,key,kind,damage", FILE_CASES)
def test_damaged_file(originals, tmp_path, name, fmt, build, key, kind, damage) -> None:
    root, entry = _copy(originals, name, build, tmp_path)
    path = root / entry[key]
    files = [root / value for value in entry.values() if isinstance(value, str) and (root / value).is_file()]
    if damage == "missing":
        path.unlink()
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    elif damage == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    elif damage.startswith("top-"):
        path.write_bytes(TOP_LEVEL[damage.removeprefix("top-")])
    else:
        path.write_bytes(_damage(damage)(path.read_bytes()))
    must = REFUSED.get(damage, damage == "top-deep")  # JSON nested past Python's recursion limit
    if damage == "bom":  # spreadsheet exports start with one: read as if it were not there
        assert read_or_refuse(fmt, root, entry, files, None) == "accepted"
    elif must is True or must == kind:
        file_error(lambda: read_examples(fmt, root, entry), path)  # the whole file: named, skipping or not
    else:
        read_or_refuse(fmt, root, entry, files, None)


# ImageNet's examples are the images its folders list: a missing one is no record to name
MEDIA_SITES = [site for site in FILES if site[0] not in ("vqa-annotations", "msvd_qa-mapping", "nextqa-mapping",
                                                         "imagenet-names")]
MEDIA_CASES = [pytest.param(*site, damage, id=f"{site[0]}:media-{damage}") for site in MEDIA_SITES
               for damage in ("missing", "folder", "empty", "garbage", "cut-half")]


@pytest.mark.parametrize("name,fmt,build,key,kind,damage", MEDIA_CASES)
def test_damaged_media(originals, tmp_path, name, fmt, build, key, kind, damage) -> None:
    """A missing media file is the record's problem (named, skippable); a corrupt one is found when it is
    decoded, as a MediaError naming the file."""
    root, entry = _copy(originals, name, build, tmp_path)
    first = read_examples(fmt, root, entry)[0]
    media = first.media[0].path
    files = [root / value for value in entry.values() if isinstance(value, str) and (root / value).is_file()]
    if damage in ("missing", "folder"):
        media.unlink()
        if damage == "folder":
            media.mkdir()
        assert read_or_refuse(fmt, root, entry, files, {first.id}) == "refused"
        return
    media.write_bytes(_damage(damage)(media.read_bytes()))
    examples = read_examples(fmt, root, entry)  # the reader checks existence; decoding finds the damage
    damaged = [ref for ex in examples for ref in ex.media if ref.path == media]
    assert damaged
    for ref in damaged:
        file_error(lambda ref=ref: load_media(ref, fps=1.0, max_frames=4), media, MediaError)
