#!/usr/bin/env bash
# Prepares the test world's assets and prints the directory that holds them:
#   bin/kube-apiserver bin/etcd bin/kubectl          the API server and its store, and the real kubectl
#   bin/kube-controller-manager bin/kube-scheduler   Deployments/ReplicaSets become Pods, Pods get Nodes
#   bin/kwok + kwok/stages.yaml                      fake Nodes whose Pods become Running and Ready
#   bin/rollouts-controller bin/kubectl-argo-rollouts  the real Argo Rollouts controller and upstream's plugin
#   crds/{istio,argo-rollouts,gateway-api}/*.yaml    the real CRDs, read from the pinned upstream Go modules
# Everything is built from the Go module proxy at the versions pinned in go.mod and versions.env here. The
# directory is a cache keyed by those files and this script, so a warm run costs nothing. The Kubernetes build is
# skipped when KUBEBUILDER_ASSETS names a directory holding kube-apiserver and etcd (the envtest convention);
# its kubectl is used too when present.
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
  echo "controlplane: Go is required to fetch the CRDs and build the test world" >&2
  exit 1
}
export GOTOOLCHAIN=local GOFLAGS=-trimpath

tmp="$out.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/crds/istio" "$tmp/crds/argo-rollouts" "$tmp/crds/gateway-api" "$tmp/kwok" "$tmp/build"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS

# Waits for a build (pid $1, log $2, what $3, module dir $4) and reports its progress on stderr: on a terminal one
# line redrawn every second, otherwise a line every 30 s (CI logs). Returns the build's exit status.
report_progress() {
  local pid=$1 log=$2 what=$3 dir=$4 start=$SECONDS next=30 total="" downloaded compiled elapsed line
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    downloaded=$(grep -c '^go: downloading' "$log" || true)
    compiled=$(grep -vc '^go: \|^#' "$log" || true)
    # Once compiling starts, every module is on disk and listing the build's packages is quick: an upper
    # bound (packages already in Go's build cache are not compiled again).
    if [[ -z $total && $compiled -gt 0 ]]; then total=$(cd "$dir" && go list -deps tool 2>/dev/null | wc -l); fi
    elapsed=$((SECONDS - start))
    if ((compiled == 0 && downloaded == 0)); then
      line="loading packages"
    elif ((compiled == 0)); then
      line="downloading Go modules: $downloaded"
    else
      line="compiled $compiled of at most ${total:-?} packages"
    fi
    line=$(printf 'controlplane: %s: %s, %dm%02ds' "$what" "$line" $((elapsed / 60)) $((elapsed % 60)))
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

# Builds the tools of the module in $1 into $tmp/bin, reporting as $2; -p bounds parallel compiles, which
# bounds peak memory on a small machine, and -v names each package as it is compiled (what the report counts).
build_tools() {
  local dir=$1 what=$2 ldflags=${3:-"-s -w"}
  echo "controlplane: building $what" >&2
  (cd "$dir" && CGO_ENABLED=0 GOBIN="$tmp/bin" go install -v -p "${VROUTE_GO_BUILD_PARALLELISM:-2}" \
    -ldflags "$ldflags" tool) 2>"$tmp/build/$what.log" &
  if ! report_progress $! "$tmp/build/$what.log" "$what" "$dir"; then
    tail -n 40 "$tmp/build/$what.log" >&2
    echo "controlplane: the build of $what failed (log above)" >&2
    exit 1
  fi
}

module_dir() { (cd "$here" && go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'); }

istio_dir=$(module_dir "istio.io/api@$ISTIO_API_VERSION")
cp "$istio_dir/kubernetes/customresourcedefinitions.gen.yaml" "$tmp/crds/istio/"
argo_dir=$(module_dir "github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION")
for f in rollout analysis-run analysis-template cluster-analysis-template experiment; do
  cp "$argo_dir/manifests/crds/$f-crd.yaml" "$tmp/crds/argo-rollouts/"
done
gateway_dir=$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
for f in gatewayclasses gateways httproutes grpcroutes referencegrants; do
  cp "$gateway_dir/config/crd/experimental/gateway.networking.k8s.io_$f.yaml" "$tmp/crds/gateway-api/"
done
chmod -R u+w "$tmp/crds"

# Kubernetes: kube-apiserver, etcd, kubectl, kube-controller-manager and kube-scheduler from the wrapper module
# beside this script. The version must be stamped, or the server reports v0.0.0-master and kubectl warns about
# version skew.
if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
  echo "controlplane: using binaries from KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS" >&2
  for b in kube-apiserver etcd kubectl kube-controller-manager kube-scheduler; do
    if [[ -x "$KUBEBUILDER_ASSETS/$b" ]]; then ln -s "$KUBEBUILDER_ASSETS/$b" "$tmp/bin/$b"; fi
  done
fi
if [[ ! -e "$tmp/bin/kube-controller-manager" ]]; then
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  rm -f "$tmp"/bin/*
  build_tools "$here" "kubernetes-$k8s_version" "$ldflags"
  # `go install` names a binary after its package path, and etcd's main package is go.etcd.io/etcd/server/v3.
  mv "$tmp/bin/server" "$tmp/bin/etcd"
fi
"$tmp/bin/kube-apiserver" --version >&2
"$tmp/bin/etcd" --version | awk 'NR == 1' >&2 # awk reads it all: `head -1` may close the pipe early (SIGPIPE, exit 141)

# kwok, in a module of its own: its Kubernetes dependencies are newer than the wrapper's. It refuses to start
# without stages: the "fast" ones its module ships (Nodes Ready at once, Pods Running and Ready at once), and
# the Node heartbeat (without it the node lifecycle controller marks the Nodes, and their Pods, not ready).
mkdir -p "$tmp/build/kwok"
cat >"$tmp/build/kwok/go.mod" <<EOF
module kwok-build
go 1.24
tool sigs.k8s.io/kwok/cmd/kwok
require sigs.k8s.io/kwok $KWOK_VERSION
EOF
(cd "$tmp/build/kwok" && go mod tidy 2>"$tmp/build/kwok-tidy.log") || {
  cat "$tmp/build/kwok-tidy.log" >&2
  exit 1
}
build_tools "$tmp/build/kwok" "kwok-$KWOK_VERSION"
kwok_dir=$(cd "$tmp/build/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
for stage in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  printf -- '---\n' >>"$tmp/kwok/stages.yaml"
  cat "$kwok_dir/kustomize/stage/$stage" >>"$tmp/kwok/stages.yaml"
done

# Argo Rollouts: the controller and upstream's kubectl plugin, in a module that takes upstream's whole replace
# block (it pins Kubernetes 1.34), read from the same module the CRDs come from.
mkdir -p "$tmp/build/argo-rollouts"
{
  printf 'module argo-rollouts-build\n\ngo %s\n\n' "$(awk '$1 == "go" {print $2; exit}' "$argo_dir/go.mod")"
  printf 'tool (\n\tgithub.com/argoproj/argo-rollouts/cmd/rollouts-controller\n'
  printf '\tgithub.com/argoproj/argo-rollouts/cmd/kubectl-argo-rollouts\n)\n\n'
  printf 'require github.com/argoproj/argo-rollouts %s\n\n' "$ARGO_ROLLOUTS_VERSION"
  awk '/^replace/ {on = 1} on {print}' "$argo_dir/go.mod"
} >"$tmp/build/argo-rollouts/go.mod"
(cd "$tmp/build/argo-rollouts" && go mod tidy 2>"$tmp/build/argo-tidy.log") || {
  tail -n 40 "$tmp/build/argo-tidy.log" >&2
  exit 1
}
argo_pkg=github.com/argoproj/argo-rollouts/utils/version
build_tools "$tmp/build/argo-rollouts" "argo-rollouts-$ARGO_ROLLOUTS_VERSION" \
  "-s -w -X $argo_pkg.version=${ARGO_ROLLOUTS_VERSION#v} -X $argo_pkg.gitTreeState=clean"
"$tmp/bin/kubectl-argo-rollouts" version --short >&2 || true

echo "controlplane: test world ready in $(((SECONDS - started) / 60))m$(printf '%02d' $(((SECONDS - started) % 60)))s" >&2
rm -rf "$tmp/build"
echo "$key" >"$tmp/.stamp"
rm -rf "$out" && mv "$tmp" "$out"
trap - EXIT
echo "$out"
