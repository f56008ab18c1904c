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

# Waits for the build (pid $1, log $2) and reports its progress on stderr: on a terminal one line redrawn every
# second, otherwise a line every 30 s (CI logs). Returns the build's exit status.
report_progress() {
  local pid=$1 log=$2 start=$SECONDS next=30 total="" downloaded compiled elapsed line
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    downloaded=$(grep -c '^go: downloading' "$log" || true)
    compiled=$(grep -vc '^go: \|^#' "$log" || true)
    # Once compiling starts, every module is on disk and listing the build's packages is quick: an upper
    # bound (packages already in Go's build cache are not compiled again).
    if [[ -z $total && $compiled -gt 0 ]]; then total=$(cd "$here" && go list -deps tool 2>/dev/null | wc -l); fi
    elapsed=$((SECONDS - start))
    if ((compiled == 0 && downloaded == 0)); then
      line="loading packages"
    elif ((compiled == 0)); then
      line="downloading Go modules: $downloaded"
    else
      line="compiled $compiled of at most $total packages"
    fi
    line=$(printf 'controlplane: %s, %dm%02ds' "$line" $((elapsed / 60)) $((elapsed % 60)))
    if [[ -t 2 ]]; then
      printf '\r\033[K%s' "$line" >&2
    elif ((elapsed >= next)); then
      echo "$line" >&2
      next=$((next + 30))
    fi
  done
  if [[ -t 2 ]]; then printf '\n' >&2; fi
  wait "$pid"
}

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
  # -p bounds parallel compiles, which bounds peak memory on a small machine. -v names each package as it is
  # compiled, which is what the progress report counts.
  (cd "$here" && CGO_ENABLED=0 GOBIN="$tmp/bin" \
    go install -v -p "${VROUTE_GO_BUILD_PARALLELISM:-2}" -ldflags "$ldflags" tool) 2>"$tmp/build.log" &
  if ! report_progress $! "$tmp/build.log"; then
    tail -n 40 "$tmp/build.log" >&2
    echo "controlplane: the build failed (log above)" >&2
    exit 1
  fi
  # `go install` names a binary after its package path, and etcd's main package is go.etcd.io/etcd/server/v3.
  mv "$tmp/bin/server" "$tmp/bin/etcd"
fi
"$tmp/bin/kube-apiserver" --version >&2
"$tmp/bin/etcd" --version | head -1 >&2

echo "$key" > "$tmp/.stamp"
rm -rf "$out" && mv "$tmp" "$out"
trap - EXIT
echo "$out"
