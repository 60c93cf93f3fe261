#!/usr/bin/env bash
# Install pgvector (the `vector` extension) into a PostgreSQL installation, building it from Debian's own source
# package when it is not installed yet. Called by scripts/services/postgres.sh; runs as root.
#
#   scripts/pgvector-build.sh PG_CONFIG
#
# PG_CONFIG is the installation's pg_config (e.g. /usr/lib/postgresql/15/bin/pg_config).
#
# Steps, each skipped when already done:
#   1. A finished build in the cache ($MEMLANE_CACHE_DIR, default ~/.cache/memlane, under pgvector/pgMAJOR) is
#      copied into the installation: a rerun takes a second.
#   2. Otherwise: install the build tools from Debian's packages (build-essential, dpkg-dev and
#      postgresql-server-dev-MAJOR for the server's major version).
#   3. Fetch the source package `pgvector` with `apt-get source`, through a private copy of this machine's own apt
#      sources (/etc/apt/sources.list.d/*.sources and /etc/apt/sources.list) with the `deb-src` type added. The
#      configured suites are tried first, then CODENAME-backports and the suites in $MEMLANE_PGVECTOR_SUITES (default
#      `trixie`: pgvector is not packaged for bookworm). The machine's own apt configuration is not changed.
#   4. Build it with PostgreSQL's PGXS (`make USE_PGXS=1 OPTFLAGS=`; no -march=native, so the cached build runs on
#      any machine of the same kind), `make install DESTDIR=` into the cache, then copy it into the installation.
set -euo pipefail

PG_CONFIG="${1:?usage: pgvector-build.sh PG_CONFIG}"
say() { printf 'pgvector: %s\n' "$*" >&2; }

sharedir="$("$PG_CONFIG" --sharedir)"
if [[ -f "$sharedir/extension/vector.control" ]]; then
    say "already installed in $sharedir"
    exit 0
fi
major="$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
cache="${MEMLANE_CACHE_DIR:-$HOME/.cache/memlane}/pgvector/pg$major"
started=$SECONDS

install_from_cache() {
    [[ -f "$cache/done" ]] || return 1
    cp -a "$cache/stage/." /
    [[ -f "$sharedir/extension/vector.control" ]] || { say "the cached build in $cache does not fit $PG_CONFIG"; return 1; }
    say "installed $(cat "$cache/done") from the cache $cache"
}
install_from_cache && exit 0

if [[ $(id -u) -ne 0 ]]; then
    say "building pgvector needs root (to install packages and write into $sharedir)"
    exit 1
fi

say "building from Debian's source package (PostgreSQL $major)"
export DEBIAN_FRONTEND=noninteractive
need=()
command -v make >/dev/null && command -v gcc >/dev/null || need+=(build-essential)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
[[ -f "$("$PG_CONFIG" --pgxs)" && -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ]] \
    || need+=("postgresql-server-dev-$major")
if ((${#need[@]})); then
    say "installing ${need[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/pgvector-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/parts" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"

# A private copy of the machine's apt sources, for source packages only.
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
extra_suites="${codename:+$codename-backports }${MEMLANE_PGVECTOR_SUITES:-trixie}"
i=0
for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    i=$((i + 1))
    # deb822 stanzas: keep each one's URIs, components and keys; add the source type and the extra suites.
    awk -v extra="$extra_suites" '
        BEGIN { RS = ""; ORS = "\n\n" }
        {
            out = ""; n = split($0, lines, "\n")
            for (k = 1; k <= n; k++) {
                line = lines[k]
                if (line ~ /^Types:/) line = "Types: deb-src"
                else if (line ~ /^Suites:/ && line !~ /-security/) line = line " " extra
                out = out line "\n"
            }
            print out
        }' "$f" >"$work/apt/parts/copy$i.sources"
done
if [[ -f /etc/apt/sources.list ]]; then
    grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list | sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' \
        >"$work/apt/parts/copy.list" || true
fi
apt_opts=(
    -o "Dir::Etc::SourceParts=$work/apt/parts" -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
    -o "Dir::Cache::archives=$work/apt/cache/archives" -o "APT::Sandbox::User=root"
)
say "reading source package lists (suites: configured + $extra_suites)"
apt-get "${apt_opts[@]}" update -qq >/dev/null
version="$(apt-cache "${apt_opts[@]}" showsrc pgvector 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)"
if [[ -z "$version" ]]; then
    say "no source package pgvector in the configured apt sources nor in: $extra_suites"
    exit 1
fi
say "fetching source package pgvector $version"
(cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only -qq "pgvector=$version" >/dev/null)
dsc="$(ls "$work"/src/*.dsc)"
dpkg-source --no-check -x "$dsc" "$work/src/pgvector" >/dev/null

say "compiling"
make -s -C "$work/src/pgvector" USE_PGXS=1 PG_CONFIG="$PG_CONFIG" OPTFLAGS= -j"$(nproc)" >/dev/null
rm -rf "$cache"
mkdir -p "$cache/stage"
make -s -C "$work/src/pgvector" USE_PGXS=1 PG_CONFIG="$PG_CONFIG" OPTFLAGS= DESTDIR="$cache/stage" install >/dev/null
echo "pgvector $version for PostgreSQL $major" >"$cache/done"
install_from_cache
say "built and installed in $((SECONDS - started))s"
