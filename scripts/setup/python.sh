#!/usr/bin/env bash
# A private Python environment for the tests that drive memlane with other programs' own client libraries (an MCP
# client, mem0, LangGraph): every scripts/setup/requirements-*.txt is installed with pip into
# ${MEMLANE_TEST_VENV:-~/.cache/memlane/test-venv}, which is reused while the requirements are unchanged (a hash of
# them is kept in the environment). Appends MEMLANE_TEST_PYTHON=<venv>/bin/python to $MEMLANE_CI_ENV when that is set.
#
#   scripts/setup/python.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${MEMLANE_TEST_VENV:-$HOME/.cache/memlane/test-venv}"
python="${PYTHON:-python3}"
shopt -s nullglob
reqs=("$root"/scripts/setup/requirements-*.txt)
if [[ ${#reqs[@]} -eq 0 ]]; then
    echo "python.sh: no requirements, nothing to do" >&2
    exit 0
fi
want="$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.memlane-requirements" 2>/dev/null)" != "$want" ]]; then
    echo "python.sh: installing ${reqs[*]##*/} into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${reqs[@]/#/-r}"
    echo "$want" >"$venv/.memlane-requirements"
fi
if [[ -n "${MEMLANE_CI_ENV:-}" ]]; then
    echo "MEMLANE_TEST_PYTHON=$venv/bin/python" >>"$MEMLANE_CI_ENV"
fi
echo "python.sh: $venv ready" >&2
