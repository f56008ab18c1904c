#!/usr/bin/env bash
# Installs what the test suite and the demo need on a fresh machine, and builds (or finds in the cache) the test
# control plane. Idempotent: a warm machine passes through in seconds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Debian packages: Prometheus and promtool (real TSDB and PromQL), openssl (service-account signing key), and a
# real browser with its WebDriver for the dashboard's tests (headless Chromium and chromedriver).
missing=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v openssl >/dev/null || missing+=(openssl)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "setup: please install: ${missing[*]} (no apt-get on this machine)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]} with apt-get" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

command -v cargo >/dev/null || { echo "setup: Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
if command -v rustup >/dev/null; then
  for c in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" >&2
  done
fi

if [[ "${VROUTE_SKIP_INTEGRATION:-}" == 1 || -n "${VROUTE_TEST_KUBECONFIG:-}" ]]; then
  exit 0 # no local control plane needed
fi
# kube-apiserver, etcd and kubectl built from the Go module proxy, plus the real Istio and Argo Rollouts CRDs.
bash "$root/tests/controlplane/assets.sh" >/dev/null
