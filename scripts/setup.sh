#!/usr/bin/env bash
# Set up this checkout on a fresh machine: system packages (as root, via apt: Mesa EGL for
# rendering, ffmpeg for videos, chromium for the browser tests), .venv with the CPU build of torch
# installed first (so pip never pulls a CUDA build), then the package in editable mode with the
# extras the tests use. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  ldconfig -p | grep -q 'libEGL.so.1' || need+=(libegl1 libgl1-mesa-dri)
  command -v ffmpeg >/dev/null || need+=(ffmpeg)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -c 'import torch' 2>/dev/null || .venv/bin/pip install -q 'torch==2.13.0'
.venv/bin/pip install -q -e '.[dev,gemini,openai,browser,minari,tensorboard,ray]'
