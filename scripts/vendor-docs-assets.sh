#!/usr/bin/env bash
# Reproduces crates/memlane-server/assets/: the browser bundle of the API reference page served at `/docs`.
# It comes from the npm package `redoc` (the standalone bundle, one file), fetched with `npm pack` into a temporary
# directory (npm checks the package's integrity against the registry); only the bundle and its licence notices are
# copied. The sha256 of each file is checked against the values recorded below and in the assets' README.md, so a
# run either reproduces the vendored files byte for byte or fails. Nothing is fetched at build or run time: the
# server compiles the files into its binary.
#
#   scripts/vendor-docs-assets.sh            # fetch, check, copy
#   REDOC_VERSION=2.5.5 CHECK=0 scripts/vendor-docs-assets.sh   # an upgrade: then record the new sums
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/crates/memlane-server/assets"
version="${REDOC_VERSION:-2.5.4}"
check="${CHECK:-1}"

# file in the package -> file in assets/ -> sha256
files=(
    "bundles/redoc.standalone.js redoc.standalone.js dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b"
    "bundles/redoc.standalone.js.LICENSE.txt redoc.standalone.js.LICENSE.txt eed602ec32e00b2b9df1984fbcc26a687b1b3193ec01961389c4b8439e6edf73"
    "LICENSE LICENSE.redoc d3026d549cf68ab7355bcfa85877bf8f845b3334a7efbfdc63936432fb34ff0e"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "redoc@$version" >/dev/null)
tar -xzf "$tmp/redoc-$version.tgz" -C "$tmp"
mkdir -p "$dest"
for f in "${files[@]}"; do
    read -r from to sum <<<"$f"
    got="$(sha256sum "$tmp/package/$from" | cut -d' ' -f1)"
    if [[ $check == 1 && $got != "$sum" ]]; then
        echo "vendor-docs-assets.sh: $from of redoc@$version has sha256 $got, expected $sum" >&2
        exit 1
    fi
    cp "$tmp/package/$from" "$dest/$to"
    echo "$got  $to"
done
echo "vendor-docs-assets.sh: redoc@$version copied into $dest" >&2
