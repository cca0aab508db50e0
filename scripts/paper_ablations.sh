#!/usr/bin/env bash
# The paper-ablation table (docs/ablations.md): train the baseline and every variant with the reduced
# recipe, evaluate them together with one `ablate` run, write the table. Every step resumes: a training
# run with a checkpoint continues from it, a finished one is skipped, and the ablate run resumes from its
# predictions, so the table may be built over several sittings. Needs the demo suite (generated on
# first use). Usage: bash scripts/paper_ablations.sh [train-runs folder] [results folder]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-train-runs/ablation}
OUT=${2:-results/paper-ablations}
FE=.venv/bin/flamingo-eval
# xattn_every=5 is the baseline itself (smol-flamingo has a block every 5 layers)
VARIANTS=(baseline gating=none xattn_every=1 xattn_every=2 xattn_every=single connector=mlp connector=mean
          schedule=round_robin no_interleaved lm=unfrozen)

for v in "${VARIANTS[@]}"; do
  name=${v/=/-}
  dir=$RUNS/$name
  if [[ -f $dir/model.yaml ]]; then echo "trained: $name"; continue; fi
  args=(train --recipe smol_flamingo_ablation --out "$dir")
  [[ $v != baseline ]] && args+=(--variant "$v")
  [[ -f $dir/checkpoint.pt ]] && args+=(--resume)
  echo "training: $name"
  $FE "${args[@]}"
done

variant_args=()
for v in "${VARIANTS[@]:1}"; do
  name=${v/=/-}
  variant_args+=(--variant "$name:model=$RUNS/$name/model.yaml")
done
$FE ablate demo_binding demo_vqa demo_captions demo_video_qa --shots 0,4,16 --trials 3 --num-samples 34 \
  --model "$RUNS/baseline/model.yaml" "${variant_args[@]}" --out "$OUT"
$FE report "$OUT" --training-runs "$RUNS"
