# Sourced by scripts/train-bridges.sh and scripts/eval-bridges.sh (from the repository
# root): installs and builds what is missing (quiet when everything is in place), fetches
# the demo pair, fits (or reuses) their affine bridges, and sets
#   lb      build/bin/latentbus
#   smol    the SmolLM2-135M-Instruct Q4_1 file
#   gemma   the Gemma 3 270M Q4_K_M file
#   fitted  the folder of the affine bridges and activation files (scripts/fit-bridges.sh)
scripts/install-deps.sh >&2
scripts/build.sh >&2
lb=build/bin/latentbus
models=$(scripts/fetch-models.sh)
smol=$(echo "$models" | grep SmolLM2)
gemma=$(echo "$models" | grep gemma)
fitted=$(scripts/fit-bridges.sh)
