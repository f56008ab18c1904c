#!/usr/bin/env bash
# Prepares the test control plane assets and prints the directory that holds them:
#   bin/kube-apiserver bin/etcd bin/kubectl        built from the Go module proxy (versions pinned in go.mod here)
#   crds/istio/*.yaml crds/argo-rollouts/*.yaml    the real CRDs, read from the pinned upstream Go modules
# The directory is a cache keyed by the Kubernetes version and this folder's files, so a warm run costs nothing.
# The build is skipped when KUBEBUILDER_ASSETS names a directory holding kube-apiserver and etcd (the envtest
# convention, e.g. from setup-envtest); its kubectl is used too when present.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$here/go.mod")
minor=$(echo "$k8s_version" | cut -d. -f2)

key="$k8s_version-$(cat "$here/go.mod" "$here/go.sum" "$here/versions.env" "$0" | sha256sum | cut -c1-12)"
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  key="envtest-$(echo "$KUBEBUILDER_ASSETS $key" | sha256sum | cut -c1-12)"
fi
cache_root="${VROUTE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-vroute}"
out="$cache_root/controlplane/$key"

if [[ -f "$out/.stamp" ]]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || {
  echo "controlplane: Go is required to fetch the CRDs and build kube-apiserver/etcd/kubectl" >&2
  exit 1
}
export GOTOOLCHAIN=local GOFLAGS=-trimpath

tmp="$out.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/crds/istio" "$tmp/crds/argo-rollouts"
trap 'rm -rf "$tmp"' EXIT

module_dir() { (cd "$here" && go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'); }

istio_dir=$(module_dir "istio.io/api@$ISTIO_API_VERSION")
cp "$istio_dir/kubernetes/customresourcedefinitions.gen.yaml" "$tmp/crds/istio/"
argo_dir=$(module_dir "github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION")
for f in rollout analysis-run analysis-template cluster-analysis-template experiment; do
  cp "$argo_dir/manifests/crds/$f-crd.yaml" "$tmp/crds/argo-rollouts/"
done
chmod -R u+w "$tmp/crds"

if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
  echo "controlplane: using binaries from KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS" >&2
  for b in kube-apiserver etcd kubectl; do
    if [[ -x "$KUBEBUILDER_ASSETS/$b" ]]; then ln -s "$KUBEBUILDER_ASSETS/$b" "$tmp/bin/$b"; fi
  done
else
  echo "controlplane: building kube-apiserver, etcd and kubectl $k8s_version (cold: about 5 min on 2 cores)" >&2
  # The version must be stamped, or the server reports v0.0.0-master and kubectl warns about version skew.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  # -p bounds parallel compiles, which bounds peak memory on a small machine.
  (cd "$here" && CGO_ENABLED=0 GOBIN="$tmp/bin" \
    go install -p "${VROUTE_GO_BUILD_PARALLELISM:-2}" -ldflags "$ldflags" tool)
  # `go install` names a binary after its package path, and etcd's main package is go.etcd.io/etcd/server/v3.
  mv "$tmp/bin/server" "$tmp/bin/etcd"
fi
"$tmp/bin/kube-apiserver" --version >&2
"$tmp/bin/etcd" --version | head -1 >&2

echo "$key" > "$tmp/.stamp"
rm -rf "$out" && mv "$tmp" "$out"
trap - EXIT
echo "$out"
