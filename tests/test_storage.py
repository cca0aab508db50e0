"""The storage layer: atomic writes leave the old file or the new one and no stray temporary file;
digests are sha256 of the content."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from flamingo_eval.storage import (
    atomic_path, file_digest, text_digest, write_bytes_atomic, write_json, write_text_atomic,
)


def test_writes_replace_the_file_and_leave_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text_atomic(target, "old\n")
    assert write_bytes_atomic(target, b"new\n") == target
    assert target.read_bytes() == b"new\n"
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    assert json.loads((tmp_path / "a.json").read_text()) == {"b": 1, "a": [1, 2]}
    assert (tmp_path / "a.json").read_text().endswith("\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "out.txt"]


def test_a_failed_writer_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "weights.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]


def test_digests_are_sha256_of_the_content(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # more than one read block
    (tmp_path / "f").write_bytes(data)
    assert file_digest(tmp_path / "f") == hashlib.sha256(data).hexdigest()
    assert text_digest("é") == hashlib.sha256("é".encode()).hexdigest()


def test_importing_storage_needs_no_torch() -> None:
    code = "import sys; sys.modules['torch'] = None; import flamingo_eval.storage"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_atomic_writes_get_the_permissions_a_plain_open_gives(tmp_path):
    import stat

    from flamingo_eval.storage import write_text_atomic

    written = write_text_atomic(tmp_path / "report.html", "<p>shared</p>")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what the process's umask gives a plain file
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
