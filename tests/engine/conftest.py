import pytest

from .fixture_data import write_data_root
from .helpers import ALL, COMMON, invoke


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    return write_data_root(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def run_folder(data_root, tmp_path_factory):
    """One clean run of all four fixture benchmarks, shots 0 and 2, two trials, batch size 8."""
    out = tmp_path_factory.mktemp("runs") / "clean"
    invoke("run", *ALL, *COMMON, "--shots", "0,2", "--trials", "2", "--data-root", str(data_root), "--out", str(out), "--batch-size", "8")
    return out
