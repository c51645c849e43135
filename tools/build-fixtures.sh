#!/usr/bin/env bash
# Rebuild the test fixtures: the micro models with their PyTorch reference logits, and the
# small stand-ins of the Hub formats (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf test/fixtures/models
/usr/bin/python3 tools/build_fixtures.py --out test/fixtures/models
# Small-dimension stand-ins in every Hub file format (merged, model; fp32, q8, fp16).
rm -rf test/fixtures/standins
/usr/bin/python3 tools/build_standin.py --model gpt2 --tiny --formats merged,model,q8,fp16 --out test/fixtures/standins
# Tiny models of each other family (llama, qwen2, phi3), with PyTorch reference logits.
rm -rf test/fixtures/families
/usr/bin/python3 tools/build_standin.py --family llama --tiny --out test/fixtures/families
/usr/bin/python3 tools/build_standin.py --family qwen2 --tiny --out test/fixtures/families
/usr/bin/python3 tools/build_standin.py --family phi3 --tiny --out test/fixtures/families
# The Hub's layouts of each family at test size (external data split in chunks, fp16, q4, q4f16),
# with PyTorch reference logits beside each.
rm -rf test/fixtures/hub-layouts
for model in llama3.2-1b qwen2.5-0.5b phi3-mini-4k; do
  /usr/bin/python3 tools/build_standin.py --model "$model" --tiny --out test/fixtures/hub-layouts
done
# The Llama family's other Hub files at test size (8-bit, bnb4, the merged decoder), with the
# PyTorch logits of the same quantized numbers.
rm -rf test/fixtures/hub-layouts-extra
/usr/bin/python3 tools/build_standin.py --model llama3.2-1b --tiny --formats int8,uint8,quantized,bnb4,merged --out test/fixtures/hub-layouts-extra
