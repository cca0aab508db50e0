"""``python -m flamingo_eval.demo ROOT [--seed N]``: generate the demo suite under ROOT and say where."""

from __future__ import annotations

import argparse
import time

from .generate import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flamingo_eval.demo", description=__doc__)
    parser.add_argument("root", help="data root; the benchmarks go to ROOT/demo_*")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    folders = generate(args.root, seed=args.seed)
    for name, folder in folders.items():
        print(f"{name}: {folder}")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
