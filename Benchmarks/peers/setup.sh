#!/usr/bin/env bash
# Creates Benchmarks/peers/.venv with the pinned peers (numpy, JAX on CPU, matplotlib for the
# charts; PyTorch too with --torch) from PyPI. Prints the venv's python, for xent-bench --peers-python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { python3 -m pip install --quiet virtualenv && python3 -m virtualenv -q "$venv"; }
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt" >&2
if [ "${1:-}" = "--torch" ]; then
    "$venv/bin/python" -m pip install --quiet -r "$here/requirements-torch.txt" >&2
fi
echo "$venv/bin/python"
