"""Every field of a record of every JSON reader, deleted or replaced by each wrong value in turn: each
case ends in an error naming the file and the record (and, skipping, that record listed), or in a
sane example; never in another exception. Kinds of field say which values must be refused."""

from __future__ import annotations

import copy
import itertools
import json

import pytest

from ..data.fixtures import write_json
from ..data.test_classification_readers import write_jsonl
from .cases import MUST_REFUSE, MUTATIONS, mutate, new_label, read_or_refuse
from .sites import SITES

CASES = [pytest.param(site, path, mutation, id=f"{site.name}:{path}:{mutation}")
         for site in SITES for path in site.fields for mutation in MUTATIONS]
_names = itertools.count()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each site's valid fixture, written once: (root, entry, its data files, the loaded JSON)."""
    made = {}

    def get(site):
        if site.name not in made:
            root = tmp_path_factory.mktemp(site.name)
            entry = site.build(root)
            files = [path for path in site.files(root, entry) if path.is_file()]
            content = (root / entry[site.file_key]).read_text(encoding="utf-8")
            data = [json.loads(line) for line in content.splitlines()] if site.json_lines else json.loads(content)
            made[site.name] = root, entry, files, data
        return made[site.name]

    return get


@pytest.mark.parametrize("site,path,mutation", CASES)
def test_record_field(built, site, path, mutation) -> None:
    root, entry, files, original = built(site)
    data = copy.deepcopy(original)
    mutate(site.record(data), path, mutation)
    name = f"case-{next(_names)}.json"  # the media stay shared; only the mutated file is new
    if site.json_lines:
        write_jsonl(root / name, data)
    else:
        write_json(root / name, data)
    case_entry = entry | {site.file_key: name}
    case_files = [root / name if f == root / entry[site.file_key] else f for f in files]
    labels = set(site.labels) | (new_label(mutation) if path in site.id_fields else set())
    read_or_refuse(site.fmt, root, case_entry, case_files, labels,
                   must_refuse=mutation in MUST_REFUSE[site.fields[path]])


def test_every_site_is_valid_unmutated(built) -> None:
    """The fixtures themselves read without a problem (else every case above would test nothing)."""
    for site in SITES:
        root, entry, files, _ = built(site)
        assert read_or_refuse(site.fmt, root, entry, files, set()) == "accepted"
