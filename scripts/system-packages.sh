#!/usr/bin/env bash
# Debian packages, installed only when missing (idempotent):
#   scripts/system-packages.sh          what the app needs: packages.txt (the list a Space installs too)
#   scripts/system-packages.sh --test   plus what the tests need: chromium for the browser tests and
#                                       pocketsphinx-testdata, real recorded speech with transcripts
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t packages < <(grep -v '^\s*#' packages.txt | grep -v '^\s*$')
[ "${1:-}" = "--test" ] && packages+=(chromium pocketsphinx-testdata)
# npm installs axe-core for the accessibility tests (Node.js is often there already, from elsewhere).
[ "${1:-}" = "--test" ] && ! command -v npm >/dev/null && packages+=(npm)
# Debian's python3 cannot make a virtual environment without python3-venv (no ensurepip).
python3 -c "import ensurepip" 2>/dev/null || packages+=(python3-venv)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "Missing Debian packages: ${missing[*]}. Install them as root, then run this again:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
