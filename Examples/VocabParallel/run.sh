#!/usr/bin/env bash
# Builds the example and runs it on this machine: 2 ranks and 4 ranks with aligned shards (bitwise
# against one process), 4 ranks with even, unaligned shards (within bounds). Exits non-zero on any
# failed check. Needs Open MPI (Scripts/install-openmpi.sh).
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release 2>&1 | tail -1
# --oversubscribe: more ranks than cores is fine here. The shared-memory transport's single-copy
# mechanism (CMA) needs ptrace rights that containers often withhold; plain copies always work.
mpi=(mpirun --oversubscribe --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
run() { echo "\$ mpirun -np $*"; "${mpi[@]}" -np "$@"; }
run 2 .build/release/vocab-parallel --split aligned --options plain
run 4 .build/release/vocab-parallel --split aligned --options all
run 4 .build/release/vocab-parallel --split even --options all
