"""Format ``karpathy``: COCO and Flickr30k captions in Karpathy's split files
(``dataset_coco.json``, ``dataset_flickr30k.json``): one example per image, all its captions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import DataError
from ..example import Example
from ..formats import Problems, entry_path, register_format
from ._common import MediaFiles, RecordError, collect, ident, labelled, load_json, mapping_of, split_names, text

# the splits Karpathy's files use; "restval" is the part of COCO val2014 that training takes
KARPATHY_SPLITS = ("train", "val", "test", "restval")


@register_format("karpathy")
def read(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read the images of the chosen Karpathy split(s) as caption examples.

    Entry keys:
      ``annotations``: the Karpathy JSON, ``{"images": [{"filepath"?, "filename", "split",
          "sentences": [{"raw", ...}], "cocoid"?, "imgid", ...}], "dataset": ...}``;
      ``images``: the image folder: an image is ``images/<filepath>/<filename>`` when the record has
          ``filepath`` (COCO: train2014 / val2014), else ``images/<filename>`` (Flickr30k);
      ``split`` (optional): a split name or a list of them (train, val, test, restval); all images
          when absent.
    Out: one ``Example`` per image, in file order: id = ``cocoid`` when present (COCO) else
    ``imgid``; target = the first caption (what OpenFlamingo's demonstrations show); references =
    all captions in file order; meta = image_id, filename, split.
    """
    file = entry_path(root, entry, "annotations")
    images = entry_path(root, entry, "images")
    splits = split_names(entry)
    if splits is not None and not splits <= set(KARPATHY_SPLITS):
        unknown = ", ".join(sorted(splits - set(KARPATHY_SPLITS)))
        raise DataError(f"karpathy split {unknown!r} unknown; Karpathy splits are {', '.join(KARPATHY_SPLITS)}")
    records = mapping_of(load_json(file), file, "images")
    media = MediaFiles()

    def parse(record: Mapping[str, Any]) -> list[Example]:
        if splits is not None and text(record, "split") not in splits:
            return []
        # COCO records carry the COCO image id as cocoid (imgid is only a position in the file)
        image_id = record["cocoid"] if "cocoid" in record else record.get("imgid")
        example_id = ident(record, "cocoid" if "cocoid" in record else "imgid")
        filename = text(record, "filename")
        folder = images / text(record, "filepath") if "filepath" in record else images
        sentences = record.get("sentences")
        if not isinstance(sentences, list) or not sentences:
            raise RecordError("has no captions (field 'sentences' missing or empty)")
        captions = [_raw(s) for s in sentences]
        return [
            Example(
                id=example_id,
                media=(media.ref(folder / filename, "image"),),
                target=captions[0].strip(),  # OpenFlamingo's demonstrations strip the caption
                references=tuple(captions),
                meta={"image_id": image_id, "filename": filename, "split": record.get("split")},
            )
        ]

    return collect(file, labelled(records, ("cocoid", "imgid")), parse, problems)


def _raw(sentence: Any) -> str:
    """A caption's text: ``sentence["raw"]`` (``tokens`` is Karpathy's lower-cased tokenisation)."""
    if not isinstance(sentence, Mapping):
        raise RecordError(f"a caption is not a JSON object: {sentence!r}")
    return text(sentence, "raw")
