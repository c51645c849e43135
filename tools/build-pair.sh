#!/usr/bin/env bash
# Rebuild the embedded pair from scratch (about an hour on 2 cores), then measure it.
# Needs Debian's PyTorch: apt-get install -y python3-torch python3-onnx libopenblas0-pthread
set -euo pipefail
cd "$(dirname "$0")/.."
/usr/bin/python3 tools/train_pair.py "$@"
npx tsx tools/measure-pair.ts
