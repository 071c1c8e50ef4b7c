#!/usr/bin/env bash
# Debian packages the app and its tests need: ffmpeg decodes audio; chromium runs the browser tests;
# pocketsphinx-testdata has real recorded speech with reference transcripts. Idempotent.
set -euo pipefail
packages=(ffmpeg chromium pocketsphinx-testdata)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
