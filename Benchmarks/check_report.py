#!/usr/bin/env python3
"""Checks that an xent-bench CSV report parses and holds every documented column, with a value
in each required field (CI runs it on the --quick report; it asserts no timing)."""
import csv
import math
import sys

COLUMNS = [
    "timestamp", "git_sha", "host", "cpu_model", "isa", "swift_version", "build_configuration",
    "kernel", "dtype", "op", "target_kind", "rows", "classes", "threads", "repetitions",
    "min_ns", "median_ns", "p90_ns", "max_ns", "ns_per_element", "gb_per_s",
    "memcpy_median_ns", "memcpy_ratio", "exp_ns_per_element", "exp_bound_ratio",
    "speedup_vs_scalar", "max_loss_error", "max_gradient_error", "peak_rss_delta_bytes",
]
DTYPES = ("f32", "f16", "bf16")
NUMERIC = ["rows", "classes", "threads", "repetitions", "min_ns", "median_ns", "p90_ns", "max_ns",
           "ns_per_element", "gb_per_s", "memcpy_median_ns", "memcpy_ratio", "exp_ns_per_element",
           "exp_bound_ratio"]


def main(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: missing columns {missing}")
        rows = list(reader)
    if not rows:
        raise SystemExit(f"{path}: no rows")
    kernels, dtypes = set(), set()
    for i, row in enumerate(rows, start=2):
        for column in NUMERIC:
            value = float(row[column])
            if not math.isfinite(value) or value <= 0:
                raise SystemExit(f"{path}:{i}: {column} = {row[column]!r} is not a positive number")
        if not float(row["min_ns"]) <= float(row["median_ns"]) <= float(row["p90_ns"]) <= float(row["max_ns"]):
            raise SystemExit(f"{path}:{i}: min ≤ median ≤ p90 ≤ max does not hold")
        if row["kernel"] in ("scalar", "vector", "reference"):
            if row["max_loss_error"] == "" or row["speedup_vs_scalar"] == "":
                raise SystemExit(f"{path}:{i}: accuracy or speedup missing for {row['kernel']}")
            if row["op"] != "fwd" and row["max_gradient_error"] == "":
                raise SystemExit(f"{path}:{i}: gradient error missing")
        if row["kernel"] == "vector" and row["peak_rss_delta_bytes"] == "":
            raise SystemExit(f"{path}:{i}: the vector kernel's peak-memory probe is missing")
        if row["dtype"] not in DTYPES:
            raise SystemExit(f"{path}:{i}: dtype = {row['dtype']!r} is not one of {DTYPES}")
        if row["kernel"] not in ("scalar", "vector", "reference") and row["dtype"] != "f32":
            raise SystemExit(f"{path}:{i}: peer rows are f32, not {row['dtype']!r}")
        kernels.add(row["kernel"])
        dtypes.add(row["dtype"])
    print(f"{path}: {len(rows)} rows, {len(COLUMNS)} columns, kernels {sorted(kernels)}, "
          f"dtypes {sorted(dtypes, key=DTYPES.index)}: OK")


if __name__ == "__main__":
    main(sys.argv[1])
