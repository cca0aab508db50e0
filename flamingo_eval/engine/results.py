"""The results folder (docs/results.md): its layout, append-and-flush predictions, resume.

``predictions.jsonl`` is appended to and flushed after every batch, one whole line per write, so a run
killed at any moment leaves complete lines plus at most one cut-off line, which the next run drops.
Under torchrun each rank appends to its own ``predictions.rankR-of-N.jsonl`` (and ``skipped...``) instead,
so no two processes write one file; reading takes every such file there is, whatever N wrote it, and
the end of the run merges them into the plain files and removes them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from ..storage import write_text_atomic
from .distributed import World, shard_name

FORMAT = "flamingo-eval-results-v1"
KEY_FIELDS = ("variant", "benchmark", "shots", "trial", "query_id")


def prediction_key(row: dict[str, Any]) -> tuple:
    return tuple(row[k] for k in KEY_FIELDS)


class ResultsFolder:
    """One run's folder. ``world`` says which files this process appends to: the plain ones in a single
    process, its own shards under torchrun."""

    def __init__(self, path: Path | str, world: World = World()) -> None:
        self.path = Path(path)
        self.run_json = self.path / "run.json"
        self.predictions = self.path / "predictions.jsonl"
        self.skipped = self.path / "skipped.jsonl"
        self.metrics = self.path / "metrics.json"
        self.own_predictions = self.path / shard_name("predictions", world)
        self.own_skipped = self.path / shard_name("skipped", world)

    def open(self, identity: dict[str, Any]) -> list[dict[str, Any]]:
        """Make the folder, or check that it was made with the same ``identity`` (the settings that
        change predictions); returns the predictions already there (for resuming), after dropping
        cut-off last lines (so call it while no other process appends)."""
        identity = json.loads(json.dumps(identity))  # compare as stored: tuples become lists
        if self.path.exists() and not self.path.is_dir():
            raise ResultsError(f"{self.path} is a file, not a folder; give --out a folder (new or a results folder)")
        if self.run_json.exists():
            previous = json.loads(self.run_json.read_text())
            if previous.get("identity") != identity:
                diff = _first_difference(previous.get("identity", {}), identity)
                raise ResultsError(
                    f"{self.path} holds results made with other settings ({diff}); "
                    "use another --out, or delete the folder to start over"
                )
        elif self.path.exists() and any(self.path.iterdir()):
            raise ResultsError(f"{self.path} exists and is not a flamingo-eval results folder")
        self.path.mkdir(parents=True, exist_ok=True)
        return self.read_predictions(repair=True)

    def shards(self, stem: str) -> list[Path]:
        """Every rank's file for ``stem`` (predictions, skipped), from this run and from earlier ones
        with another number of ranks."""
        return sorted(self.path.glob(f"{stem}.rank*-of-*.jsonl"))

    def read_predictions(self, *, repair: bool = False) -> list[dict[str, Any]]:
        """Every complete line of predictions.jsonl and of the ranks' shards (the plain file first); with
        ``repair``, a cut-off last line (a process killed mid-write) is removed from its file."""
        files = [self.predictions, *self.shards("predictions")]
        return [row for file in files if file.exists() for row in _read_lines(file, repair)]

    def append(self, file: Path, rows: Iterable[dict[str, Any]]) -> None:
        """Append rows as JSON lines in one write, then flush and fsync (a batch is durable or absent)."""
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        if not text:
            return
        with open(file, "a") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def consolidate(self, rows: list[dict[str, Any]]) -> None:
        """Write the final predictions.jsonl (``rows``, one per key) and skipped.jsonl (each record once),
        then remove the ranks' shards. In that order: a run killed in between finds every row twice, once
        in the plain file, and keeps one per key."""
        write_text_atomic(self.predictions, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        skipped = list(dict.fromkeys(json.dumps(row, ensure_ascii=False) for row in self.read_skipped()))
        if skipped:
            write_text_atomic(self.skipped, "".join(line + "\n" for line in skipped))
        for shard in self.shards("predictions") + self.shards("skipped"):
            shard.unlink()

    def skipped_summary(self) -> str | None:
        """One line on what was left out and where it is listed; None when nothing was."""
        rows = self.read_skipped()
        if not rows:
            return None
        pool = sum(1 for r in rows if r["variant"] is None and str(r["reason"]).startswith("demonstration pool item"))
        records = sum(1 for r in rows if r["variant"] is None) - pool
        queries = len({(r["variant"], r["benchmark"], r["shots"], r["trial"], r["id"]) for r in rows if r["variant"] is not None})
        parts = [f"{records} bad data record(s) left out", f"{queries} prompt(s) not answered (unreadable media)",
                 f"{pool} pool item(s) never shown as demonstrations"]
        return f"skipped: {'; '.join(p for p in parts if not p.startswith('0 '))}; listed in {self.skipped}"

    def unscored_summary(self) -> str | None:
        """One line on predictions kept without a score (a split whose answers are not public); None when
        every prediction was scored."""
        rows = [r for r in self.read_predictions() if not r.get("references") and r.get("answer_index") is None]
        if not rows:
            return None
        benchmarks = ", ".join(sorted({r["benchmark"] for r in rows}))
        return (f"not scored: {len(rows)} prediction(s) of {benchmarks} have no reference answers (a split whose answers "
                f"are not public); `flamingo-eval export {self.path} --format ...` writes the submission file")

    def read_skipped(self) -> list[dict[str, Any]]:
        """The skipped records of skipped.jsonl and of the ranks' shards (a cut-off last line ignored)."""
        files = [self.skipped, *self.shards("skipped")]
        return [row for file in files if file.exists() for row in _read_lines(file, repair=False)]


class SkipLog:
    """Appends to this process's skipped file; a row without a variant (a bad data record or pool item,
    found again in every trial) is written once per (benchmark, id)."""

    def __init__(self, folder: ResultsFolder) -> None:
        self.folder = folder
        self.recorded: set[tuple[str, str]] = set()

    def load(self) -> None:
        """Note what the folder already lists (when resuming)."""
        self.recorded = {(r["benchmark"], r["id"]) for r in self.folder.read_skipped() if r.get("variant") is None}

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        new = [r for r in rows if r["variant"] is not None or (r["benchmark"], r["id"]) not in self.recorded]
        self.recorded.update((r["benchmark"], r["id"]) for r in new if r["variant"] is None)
        self.folder.append(self.folder.own_skipped, new)


def _read_lines(file: Path, repair: bool) -> list[dict[str, Any]]:
    """The complete JSON lines of ``file``; with ``repair``, a cut-off last line is cut from the file."""
    data = file.read_bytes()
    complete, _, tail = data.rpartition(b"\n")
    if tail and repair:
        with open(file, "r+b") as f:
            f.truncate(len(complete) + 1 if complete else 0)
    rows = []
    for number, line in enumerate(complete.split(b"\n") if complete else [], 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ResultsError(f"{file}: line {number} is not JSON ({err})") from None
    return rows


def _first_difference(old: Any, new: Any, path: str = "") -> str:
    """The first setting (as a dotted path) whose value differs, with both values."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:  # settings first, as the identity lists them
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
    return f"{path or 'settings'}: {json.dumps(old)[:80]} before, {json.dumps(new)[:80]} now"
