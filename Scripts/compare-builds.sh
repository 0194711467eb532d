#!/usr/bin/env bash
# Compares two commits' speed on a shared, noisy machine: builds xent-bench at each (in temporary
# git worktrees), then runs the two builds in alternation, the same cases each time, and reports
# per case the median over the pairs of the time ratio B/A (below 1: B is faster), the pairs' lowest
# and highest ratio, and how many pairs had B faster. A neighbour's burst then slows both runs of a
# pair instead of one whole report.
#
#   Scripts/compare-builds.sh A B [ROUNDS] [xent-bench run options…]
#
# Each run times the vector kernel on the CPU's best ISA with Float logits on one thread,
# forward and forward+gradient with labels at 256x1000 (cache-resident: the kernel's compute, not
# the memory system); any xent-bench run option given overrides its own default and leaves the
# others (--shapes, --ops, --targets, --dtypes, --isas, --min-time and the like; until 2026-12-06
# any option replaced all three defaults, so an older command without --ops and --targets timed
# fwd, fwdgrad and inplace with labels and soft targets). The softmax suite only: xent-bench
# refuses --linear beside the options this script sets. ROUNDS (default 8) is at least 1.
# XENT_BUILD_JOBS=N passes -j N to the two builds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
[ $# -ge 2 ] || { sed -n '2,17p' "$0"; exit 2; }
a=$1 b=$2 rounds=8
shift 2
# ROUNDS is optional: a third argument that is a number, else the options start there.
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
[ "$rounds" -ge 1 ] || { echo "compare-builds: ROUNDS must be at least 1" >&2; exit 2; }
# The defaults first: xent-bench takes an option's last value.
options=(--shapes 256x1000 --ops fwd,fwdgrad --targets labels "$@")
# The vector kernel on the CPU's best ISA (xent-bench's default would time every ISA).
case "$(uname -m)" in
    x86_64) isa=sse2; grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && isa=avx2
            grep -qw avx512f /proc/cpuinfo && isa=avx512 ;;
    aarch64|arm64) isa=advsimd ;;
    *) isa=scalar ;;
esac

work=$(mktemp -d)
trap 'git worktree remove --force "$work/a" >/dev/null 2>&1 || true
      git worktree remove --force "$work/b" >/dev/null 2>&1 || true
      rm -rf "$work"' EXIT
for side in a b; do
    rev=${!side}
    git worktree add --detach "$work/$side" "$rev" >/dev/null 2>&1
    echo "building $side = $rev ($(git -C "$work/$side" log -1 --format=%h))" >&2
    swift build -c release ${XENT_BUILD_JOBS:+-j "$XENT_BUILD_JOBS"} --package-path "$work/$side/Benchmarks" 2>&1 |
        tail -1 >&2
done

for round in $(seq "$rounds"); do
    for side in a b; do
        "$work/$side/Benchmarks/.build/release/xent-bench" run --kernels vector --isas "$isa" --dtypes f32 \
            --threads 1 --no-memory-probe --output-directory "$work/$side-$round" "${options[@]}" \
            >"$work/$side-$round.log" 2>&1 || { cat "$work/$side-$round.log" >&2; exit 1; }
    done
    echo "round $round of $rounds" >&2
done

python3 - "$work" "$rounds" "$a" "$b" <<'EOF'
import csv, glob, statistics, sys
work, rounds, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def cases(side, r):
    out = {}
    for path in glob.glob(f"{work}/{side}-{r}/*.csv"):
        for row in csv.DictReader(open(path)):
            key = (row["kernel"], row["isa"], row["dtype"], row["op"], row["target_kind"],
                   f'{row["rows"]}x{row["classes"]}', row.get("alignment", "line"), f'{row["threads"]}t')
            out[key] = float(row["median_ns"]) / (int(row["rows"]) * int(row["classes"]))
    return out
pairs = [(cases("a", r), cases("b", r)) for r in range(1, rounds + 1)]
print(f"{'case':56} {'A ns/elem':>10} {'B ns/elem':>10} {'B/A':>7} {'pairs B/A':>13} {'B<A':>5}"
      f"  (medians over {rounds} pairs; A = {a}, B = {b})")
for key in sorted(pairs[0][0]):
    ta = [p[0][key] for p in pairs if key in p[0] and key in p[1]]
    tb = [p[1][key] for p in pairs if key in p[0] and key in p[1]]
    ratios = [y / x for x, y in zip(ta, tb)]
    # The spread: the pairs' lowest and highest ratio, and how many pairs had B faster.
    spread = f"{min(ratios):.3f}-{max(ratios):.3f}"
    faster = f"{sum(r < 1 for r in ratios)}/{len(ratios)}"
    print(f"{' '.join(key):56} {statistics.median(ta):10.3f} {statistics.median(tb):10.3f} "
          f"{statistics.median(ratios):7.3f} {spread:>13} {faster:>5}")
EOF
