#!/bin/sh
# Installs what building the package needs beyond Swift, from Debian's or Ubuntu's packages: SLEEF
# (libsleef-dev, for Xent), OpenBLAS (libopenblas-dev, for XentLinear) and pkg-config, which finds
# both. Uses sudo when not run as root; does nothing when everything is there.
set -eu
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists sleef && pkg-config --exists openblas; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libsleef-dev libopenblas-dev pkg-config >/dev/null
pkg-config --modversion sleef >/dev/null
pkg-config --modversion openblas >/dev/null
