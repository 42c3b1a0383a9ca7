#!/usr/bin/env bash
# Checks deploy/ without a cluster or a Docker engine (a few seconds once the validator
# is installed):
#  1. lints deploy/docker/Dockerfile's structure and proves the lint catches known breaks;
#  2. renders deploy/k8s/base and every deploy/k8s/overlays/* with `kubectl kustomize`
#     into build/deploy/ (Debian 12's kubectl 1.20 and newer ones alike);
#  3. validates every rendered object against the Kubernetes $K8S_VERSION schemas with
#     kubernetes-validate (strict: unknown fields fail), installed from the Python package
#     index into build/deploy-venv on first use;
#  4. proves the validator rejects a broken object;
#  5. checks the wiring schemas cannot see (deploy/k8s/check_manifests.py, with the
#     monitoring and tracing rules of observability_checks.py), and proves that check
#     catches known breaks;
#  6. lints scripts/build-images.sh (shellcheck) and its Python helpers; building the
#     images themselves takes far longer than CI allows (deploy/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSION=${K8S_VERSION:-1.32.0}
VALIDATOR=kubernetes-validate==1.37.0  # ships schemas for Kubernetes 1.25 to 1.37
venv=build/deploy-venv
out=build/deploy-check

echo "check-deploy: Dockerfile"
python3 deploy/docker/lint_dockerfile.py deploy/docker/Dockerfile
python3 deploy/docker/lint_dockerfile.py --self-test deploy/docker/Dockerfile

command -v kubectl >/dev/null || {
  echo "check-deploy: kubectl not found (scripts/install-deps.sh installs kubernetes-client)" >&2
  exit 1
}
if ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -q "${VALIDATOR#*==}"; then
  echo "check-deploy: installing $VALIDATOR into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$VALIDATOR"
fi

mkdir -p "$out"
rendered=()
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  # Newer kustomize warns about the fields kept for kustomize v2.0.3 (kubectl 1.20); any
  # other message is shown.
  if ! kubectl kustomize "$dir" >"$out/$name.yaml" 2>"$out/$name.err"; then
    cat "$out/$name.err" >&2
    echo "check-deploy: $dir does not render" >&2
    exit 1
  fi
  grep -v "^# Warning: '\(bases\|commonLabels\|patchesStrategicMerge\|patchesJson6902\)' is deprecated" \
    "$out/$name.err" >&2 || true
  echo "check-deploy: $dir -> $out/$name.yaml ($(grep -c '^kind:' "$out/$name.yaml") objects)"
  rendered+=("$out/$name.yaml")
done

# The validator has no schema for the Prometheus Operator's ServiceMonitor (a CRD) and
# says so; observability_checks.py checks its fields instead. Other warnings are shown.
"$venv/bin/kubernetes-validate" --kubernetes-version "$K8S_VERSION" --strict --quiet "${rendered[@]}" 2>&1 |
  { grep -v "Couldn't find schema for kind ServiceMonitor with api version monitoring.coreos.com/v1 " || true; }
echo "check-deploy: every object valid against Kubernetes $K8S_VERSION (strict)"
# The validator must reject a misspelled field (in the StatefulSets) and a wrongly typed
# value (in the Deployment).
sed -e 's/podManagementPolicy:/podManagementPolicyy:/' -e 's/containerPort: 7070/containerPort: grpc/' \
  "$out/base.yaml" >"$out/broken.yaml"
if "$venv/bin/kubernetes-validate" --kubernetes-version "$K8S_VERSION" --strict --quiet \
     "$out/broken.yaml" >"$out/broken.log" 2>&1; then
  echo "check-deploy: the validator accepted a broken object ($out/broken.yaml)" >&2
  exit 1
fi
grep -q "'podManagementPolicyy' was unexpected" "$out/broken.log" && grep -q "is not of type 'integer'" "$out/broken.log" || {
  cat "$out/broken.log" >&2
  echo "check-deploy: the validator missed one of the two breaks" >&2
  exit 1
}
echo "check-deploy: the validator rejects a misspelled field and a mistyped port"

"$venv/bin/python" deploy/k8s/check_manifests.py "${rendered[@]}"
"$venv/bin/python" deploy/k8s/check_manifests.py --self-test "${rendered[@]}"

echo "check-deploy: scripts/build-images.sh"
command -v shellcheck >/dev/null || {
  echo "check-deploy: shellcheck not found (scripts/install-deps.sh installs it)" >&2
  exit 1
}
shellcheck scripts/build-images.sh
scripts/build-images.sh --help >/dev/null
python3 -c 'import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]' \
  deploy/docker/smoke_test.py deploy/docker/image_sizes.py
echo "check-deploy: build-images.sh passes shellcheck; its Python helpers parse"
