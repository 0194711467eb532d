#!/bin/sh
# Installs what building Xent needs beyond Swift: SLEEF (libsleef-dev) and pkg-config, from
# Debian's or Ubuntu's packages. Uses sudo when not run as root.
set -eu
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists sleef; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libsleef-dev pkg-config >/dev/null
pkg-config --modversion sleef >/dev/null
