#!/usr/bin/env bash
# The GPU measurement of docs/speed.md, prepared for a session that is lent a GPU (one short run):
# OpenFlamingo-9B's shapes with random weights, bfloat16, 32 shots of captioning prompts (demo_captions
# images; COCO cannot be downloaded there), 3 beams, 20 new tokens; OpenFlamingo's own loop on a subset.
# Then the harness again with its decode steps compiled (static KV cache, CUDA graphs), checked
# against the reference on a few queries; a separate file, so a time-out there loses nothing above.
# Usage (on the device machine, from the repository root): bash scripts/gpu_bench.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu-figures}
mkdir -p "$OUT"
[ -x .venv/bin/python ] || bash scripts/setup.sh
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" || true
.venv/bin/flamingo-eval make-demo-data >/dev/null
# the GPU-only paths on the tiny spec first (skipped elsewhere): CUDA-graph decode steps, allocator-measured budget
.venv/bin/python -m pytest -q -rs tests/model/test_cuda_paths.py 2>&1 | tee "$OUT/cuda_tests.log" || true
.venv/bin/flamingo-eval bench --device cuda --dtype bfloat16 --vision-dtype bfloat16 --model openflamingo-9b-random --benchmark demo_captions \
  --shots 32 --queries 64 --batch-size 16 --selection random --reference-queries 16 \
  --json "$OUT/bench_gpu_9b.json" 2>&1 | tee "$OUT/bench_gpu_9b.log"
.venv/bin/flamingo-eval bench --device cuda --dtype bfloat16 --vision-dtype bfloat16 --model openflamingo-9b-random --benchmark demo_captions \
  --shots 32 --queries 64 --batch-size 16 --selection random --reference-queries 4 --decode compiled --no-flops \
  --json "$OUT/bench_gpu_9b_compiled.json" 2>&1 | tee "$OUT/bench_gpu_9b_compiled.log"
