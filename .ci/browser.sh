#!/usr/bin/env bash
# What the browser test (tests/test_explore_page.py) needs, installed once: Debian's
# chromium (never a browser downloaded by a test tool) and playwright-core, pinned in
# tests/browser/package-lock.json, to drive it. Idempotent and quick when both are there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends chromium fonts-liberation
fi

if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
