#!/usr/bin/env bash
# promtool, which `scripts/test.sh` runs on the shipped alert rules (`promtool check rules` and `promtool test rules`
# on deploy/prometheus/). Installs Debian's `prometheus` package (which carries promtool) when promtool is missing;
# apt-get without prompts, through sudo only when not root. Nothing else is started: the package's service is not
# needed and is left alone.
#
#   scripts/setup/promtool.sh
set -euo pipefail
say() { echo "promtool.sh: $*" >&2; }

if ! command -v promtool >/dev/null 2>&1; then
    say "installing Debian's prometheus package (for promtool)"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
say "$(promtool --version 2>&1 | head -n1)"
