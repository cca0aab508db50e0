"""Under torchrun: ranks share the queries, rank 0 merges and scores, and a killed rank's run resumes.

Real torchrun processes on the CPU (gloo), compared with one process in-process on the same fixture data.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flamingo_eval.engine.distributed import World

from .helpers import COMMON, invoke, predictions

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = Path(sys.executable).with_name("torchrun")
ARGS = ["vqav2", *COMMON, "--shots", "0,2", "--trials", "2"]  # 4 queries x 2 shot counts x 2 trials
TOTAL = 16
FIELDS = ("benchmark", "shots", "trial", "query_id", "demo_ids", "prompt", "raw_output", "prediction", "score")


def torchrun(ranks: int, out: Path, data_root: Path, *extra: str) -> list[str]:
    """The command line: ``ranks`` processes on this machine, on a free port (--standalone)."""
    return [str(TORCHRUN), "--standalone", f"--nproc_per_node={ranks}", "-m", "flamingo_eval", "run", *ARGS,
            "--data-root", str(data_root), "--out", str(out), *extra]


def environment() -> dict[str, str]:
    """This environment less any torchrun variables pytest itself may run under."""
    drop = {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}
    return {k: v for k, v in os.environ.items() if k not in drop} | {"COLUMNS": "200"}


def compared(folder: Path) -> list[list]:
    return [[r[f] for f in FIELDS] for r in predictions(folder)]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().split(b"\n")[:-1]] if path.exists() else []


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def worker_of_rank(launcher: int, rank: int) -> int | None:
    """The pid of the torchrun worker with RANK=``rank`` among ``launcher``'s children."""
    for pid in children(launcher):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in env:
            return pid
    return None


@pytest.fixture(scope="module")
def single(data_root, tmp_path_factory):
    """The same run in one process, without a launcher: what every torchrun run must reproduce."""
    out = tmp_path_factory.mktemp("single") / "run"
    invoke("run", *ARGS, "--data-root", str(data_root), "--out", str(out))
    return out


def test_the_world_comes_from_torchruns_environment():
    assert World.from_env({}) == World() and not World().distributed
    assert World.from_env({"WORLD_SIZE": "1", "RANK": "0"}) == World()
    world = World.from_env({"WORLD_SIZE": "3", "RANK": "2", "LOCAL_RANK": "0"})
    assert (world.rank, world.size, world.local_rank, world.is_main) == (2, 3, 0, False)
    assert [p for p in range(7) if world.owns(p)] == [2, 5]


def test_two_ranks_under_torchrun_match_one_process(single, data_root, tmp_path):
    out = tmp_path / "two"
    result = subprocess.run(torchrun(2, out, data_root), capture_output=True, text=True, timeout=300, env=environment(), cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert compared(out) == compared(single)
    assert json.loads((out / "metrics.json").read_text()) == json.loads((single / "metrics.json").read_text())
    assert not list(out.glob("*.rank*")), "the ranks' shards are merged into predictions.jsonl and removed"
    run = json.loads((out / "run.json").read_text())
    assert run["world_size"] == 2 and run["predictions_per_rank"] == [TOTAL // 2, TOTAL // 2]  # shared, not repeated
    assert run["finished"] and result.stdout.count("results: ") == 1  # one report, from rank 0


def test_a_rank_killed_part_way_resumes_with_another_number_of_ranks(single, data_root, tmp_path):
    out = tmp_path / "killed"
    shard = out / "predictions.rank1-of-2.jsonl"
    log = tmp_path / "killed.log"
    with open(log, "w") as sink:
        launcher = subprocess.Popen(torchrun(2, out, data_root, "--batch-size", "1"), stdout=sink, stderr=subprocess.STDOUT,
                                    env=environment(), cwd=ROOT, start_new_session=True)
    killed = None
    try:
        deadline = time.time() + 240
        while time.time() < deadline and launcher.poll() is None and killed is None:
            if len(lines(shard)) >= 1:
                killed = worker_of_rank(launcher.pid, 1)
                if killed is not None:
                    os.kill(killed, signal.SIGKILL)  # rank 1 dies; torchrun stops rank 0 and gives up
            time.sleep(0.02)
        launcher.wait(timeout=120)
    finally:  # never leave a launcher or a worker of ours behind, whatever failed above
        for pid in children(launcher.pid):
            os.kill(pid, signal.SIGKILL)
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert killed is not None, "the run ended before rank 1 could be killed:\n" + log.read_text()[-3000:]
    assert launcher.returncode != 0 and not (out / "metrics.json").exists()
    shards = {path.name: {(r["shots"], r["trial"], r["query_id"]) for r in lines(path)} for path in out.glob("predictions.rank*")}
    assert set(shards) <= {"predictions.rank0-of-2.jsonl", "predictions.rank1-of-2.jsonl"} and shards[shard.name]
    # no key answered by both ranks (rank 0 may not have written anything yet when rank 1 is killed:
    # then there is one shard, and nothing to intersect)
    both = list(shards.values())
    assert sum(len(keys) for keys in both) < TOTAL and (len(both) < 2 or not set.intersection(*both))
    with open(shard, "ab") as f:
        f.write(b'{"variant": "baseline", "benchm')  # as if killed in the middle of a write

    result = subprocess.run(torchrun(3, out, data_root), capture_output=True, text=True, timeout=300, env=environment(), cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert compared(out) == compared(single)  # one row per key: nothing answered twice, nothing lost
    assert json.loads((out / "metrics.json").read_text()) == json.loads((single / "metrics.json").read_text())
    run = json.loads((out / "run.json").read_text())
    assert run["world_size"] == 3 and sum(run["predictions_per_rank"]) == TOTAL - sum(len(k) for k in shards.values())
    assert not list(out.glob("*.rank*"))
