#!/usr/bin/env bash
# Builds the krew archives this machine can build, computes their sha256 and renders the krew manifest.
#
#   krew/release.sh                     release build(s) into dist/, manifest dist/vroute.yaml
#   krew/release.sh --update-manifest   ... and copy the manifest to krew/vroute.yaml
#   krew/release.sh --binary PATH       package an existing binary for the host platform (no build; for tests)
#   krew/release.sh --no-build          only render the manifest from the archives already in --out (the
#                                       release workflow's last job, once every platform's archive is there)
#
# Platforms: linux and darwin on amd64 and arm64. The host's is always built; the others are built when their
# Rust target is installed (`rustup target add ...` and a linker). Platforms without an archive are left out of
# the rendered manifest (with a warning): on release, .github/workflows/release.yml builds each platform on its
# own runner, and krew-release-bot renders krew/.krew.yaml with the same layout.
# Plain bash 3.2 (macOS's /bin/bash): no associative arrays.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/dist"
binary=""
update=0
build=1
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --update-manifest) update=1; shift ;;
    --no-build) build=0; shift ;;
    *) echo "release: unknown argument $1" >&2; exit 4 ;;
  esac
done

version=$(awk -F'"' '/^version = /{print $2; exit}' "$root/Cargo.toml")
tag="v$version"
mkdir -p "$out"

triple() {
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
  esac
}
host="" installed=""
if ((build)); then
  host=$(rustc -vV | awk '/^host:/{print $2}')
  installed=$(rustup target list --installed 2>/dev/null || echo "$host")
fi

package() { # platform binary
  local platform=$1 bin=$2 stage
  stage=$(mktemp -d)
  cp "$bin" "$stage/kubectl-vroute"
  cp "$root/krew/kubectl_complete-vroute" "$root/LICENSE" "$stage/"
  tar -C "$stage" -czf "$out/kubectl-vroute_${tag}_${platform}.tar.gz" kubectl-vroute kubectl_complete-vroute LICENSE
  rm -rf "$stage"
}

for platform in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64; do
  t=$(triple "$platform")
  if ((!build)); then
    continue
  elif [[ $t == "$host" && -n $binary ]]; then
    package "$platform" "$binary"
  elif [[ $t == "$host" ]] || grep -qx "$t" <<<"$installed"; then
    (cd "$root" && cargo build --release --locked --target "$t" --bin kubectl-vroute >&2)
    package "$platform" "$root/target/$t/release/kubectl-vroute"
  else
    echo "release: no $t target on this machine: $platform left out of the manifest" >&2
  fi
done

# Render krew/.krew.yaml the way krew-release-bot does: the tag, then uri + sha256 for each archive.
manifest="$out/vroute.yaml"
python3 - "$root/krew/.krew.yaml" "$out" "$tag" > "$manifest" <<'PY'
import hashlib, os, re, sys
template, out, tag = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(template).read()
head, platforms = text.split("  platforms:\n")
head = "\n".join(l for l in head.splitlines() if not l.startswith("#")).strip() + "\n"
blocks = re.split(r"(?m)^(?=  - selector:)", platforms)
rendered = []
for block in filter(str.strip, blocks):
    m = re.search(r'\{\{addURIAndSha "([^"]+)" \.TagName \}\}', block)
    uri = m.group(1).replace("{{ .TagName }}", tag)
    archive = os.path.join(out, uri.rsplit("/", 1)[1])
    if not os.path.exists(archive):
        continue
    sha = hashlib.sha256(open(archive, "rb").read()).hexdigest()
    rendered.append(block.replace(m.group(0), f"uri: {uri}\n    sha256: {sha}"))
print((head.replace("{{ .TagName }}", tag) + "  platforms:\n" + "".join(rendered)).rstrip())
PY
archives=$(find "$out" -maxdepth 1 -name 'kubectl-vroute_*.tar.gz' | wc -l | tr -d ' ')
if ((archives == 0)); then
  echo "release: no archive in $out" >&2
  exit 1
fi
echo "release: $archives archive(s) and $manifest" >&2
if ((update)); then cp "$manifest" "$root/krew/vroute.yaml"; fi
