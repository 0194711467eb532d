#!/bin/sh
# Installs Open MPI from Debian's or Ubuntu's packages (libopenmpi-dev, openmpi-bin) for the
# vocabulary-parallel example, Examples/VocabParallel. Uses sudo when not run as root.
set -eu
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists ompi-c && command -v mpirun >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libopenmpi-dev openmpi-bin pkg-config >/dev/null
pkg-config --modversion ompi-c >/dev/null
