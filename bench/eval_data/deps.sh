#!/usr/bin/env bash
# What `make eval-data` needs besides Python packages: Debian's fluidsynth and its General
# MIDI soundfont. Installed once (as root, or through sudo); quick when both are there.
set -euo pipefail
if command -v fluidsynth >/dev/null && [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends fluidsynth fluid-soundfont-gm
