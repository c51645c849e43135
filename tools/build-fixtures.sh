#!/usr/bin/env bash
# Rebuild the micro test fixtures and their PyTorch reference logits (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf test/fixtures/models
/usr/bin/python3 tools/build_fixtures.py --out test/fixtures/models
