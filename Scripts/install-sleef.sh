#!/bin/sh
# The former name of Scripts/install-dependencies.sh (SLEEF, and now OpenBLAS for XentLinear).
exec "$(dirname "$0")/install-dependencies.sh" "$@"
