#!/usr/bin/env python3
"""ctest helper: loads a real model with `latentbus model info MODEL --json` and checks the
runtime's memory bounds: what loading the model adds to the resident set is at most 1.3x
the weights it holds (quantized blocks and float32 tensors); the weights, kept quantized,
take at most 1.3x the GGUF file; and all the load adds (weights, tokenizer, tables) stays
within 1.3x the file.

The process's resident set before loading (libtorch's shared libraries and the heap its
static initialisers fill, ~170 MB whatever the model) is reported but not counted."""
import json
import os
import subprocess
import sys

LIMIT = 1.3

latentbus, name = sys.argv[1], sys.argv[2]
model_dir = os.environ.get("LATENTBUS_MODEL_DIR",
                           os.path.join(os.environ.get("HOME", "/root"), ".cache/latentbus/models"))
path = os.path.join(model_dir, name)
if not os.path.exists(path):
    sys.exit(f"{path} is missing: run scripts/fetch-models.sh first")
out = subprocess.run([latentbus, "model", "info", path, "--json"], check=True,
                     stdout=subprocess.PIPE).stdout
info = json.loads(out)
mb = 1e6
print(f"{name}: weights {info['weight_bytes'] / mb:.0f} MB, resident before load "
      f"{info['resident_before_load_bytes'] / mb:.0f} MB, after {info['resident_bytes'] / mb:.0f} MB "
      f"({info['resident_vs_weights']:.2f}x), added by the load "
      f"{info['resident_added_by_load_bytes'] / mb:.0f} MB ({info['resident_added_vs_weights']:.2f}x)")
assert info["weight_bytes"] > 0
assert info["resident_added_by_load_bytes"] >= 0.9 * info["weight_bytes"], \
    "the load added less than the weights: the measurement is broken"
assert info["resident_added_vs_weights"] <= LIMIT, \
    f"loading added {info['resident_added_vs_weights']:.2f}x the weights (limit {LIMIT}x)"
assert info["quantized"], "the GGUF weights were not kept quantized"
file_bytes = info["file_bytes"]
print(f"{name}: file {file_bytes / mb:.0f} MB; weights held {info['weight_bytes'] / file_bytes:.2f}x "
      f"the file, the load added {info['resident_added_vs_file']:.2f}x the file")
assert info["weight_bytes"] <= LIMIT * file_bytes, \
    f"the packed weights take {info['weight_bytes'] / file_bytes:.2f}x the file (limit {LIMIT}x)"
# Everything the load adds (weights, tokenizer, tables): Gemma 3's 262,144-piece tokenizer
# counts here (~16 MB since its lookups index the vocabulary in place; ~70 MB before).
assert info["resident_added_vs_file"] <= LIMIT, \
    f"loading added {info['resident_added_vs_file']:.2f}x the GGUF file (limit {LIMIT}x)"
