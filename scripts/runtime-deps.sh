#!/usr/bin/env bash
# Prints the Debian packages that own every shared library BINARY loads (ldd's full
# closure), one a line, sorted. The container build stage runs it on build/bin/latentbus
# and the runtime stage installs exactly that list (scripts/install-deps.sh
# --packages-from), so the runtime image never keeps a second, hand-written package list.
# The closure matters: libtorch reaches BLAS through the libblas.so.3 alternative, and
# only the closure names the OpenBLAS package behind it (the reference BLAS is ~9x slower).
# Fails when a library belongs to no package (it would be missing from the image).
set -euo pipefail
bin=${1:?usage: scripts/runtime-deps.sh BINARY}
[ -x "$bin" ] || { echo "runtime-deps: $bin is not an executable" >&2; exit 1; }

libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
[ -n "$libs" ] || { echo "runtime-deps: ldd found no shared libraries in $bin" >&2; exit 1; }
# dpkg knows a file by one spelling only (/lib/... or /usr/lib/..., the real file or the
# symlink): ask for every spelling of every library in one query, which is fast.
declare -A spellings
for lib in $libs; do
  real=$(realpath "$lib")
  spellings[$lib]="$real $lib /usr${lib#/usr} ${lib#/usr} /usr${real#/usr} ${real#/usr}"
done
declare -A owner
while IFS= read -r line; do
  owner[${line#*: }]=${line%%: *}
done < <(dpkg-query -S ${spellings[@]} 2>/dev/null || true)
packages=()
for lib in $libs; do
  pkg=
  for p in ${spellings[$lib]}; do
    if [ -n "${owner[$p]:-}" ]; then pkg=${owner[$p]%%:*}; break; fi
  done
  [ -n "$pkg" ] || { echo "runtime-deps: $lib belongs to no Debian package" >&2; exit 1; }
  packages+=("${pkg%%,*}")
done
printf '%s\n' "${packages[@]}" | sort -u
