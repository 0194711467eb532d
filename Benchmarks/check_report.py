#!/usr/bin/env python3
"""Checks that an xent-bench CSV report parses and holds every documented column, with a value
in each required field (CI runs it on the --quick report and the --linear --quick one; it asserts
no timing). A linear-head report (`xent-bench --linear`) has the linear columns after the others
and is checked for them too. Every report has the rounds columns (`--rounds`): a case's median lies
between its lowest and highest round median, which are the median itself for one round; and an
alignment column (`--alignment`): line, array or odd for Xent's rows, `-` for peers; and the roofline
columns: the larger of the row's memcpy bound and exp bound × elements, and the median over it; and the
threaded memcpy bound's columns, filled on every row of a run with a thread count above 1 (empty otherwise),
with the threaded roofline on the rows that ran on the bound's thread count; and an options column
(`--options`): the call option a case set, `plain` for none (and for peers and the linear head's rows;
a report from before the column counts as plain calls)."""
import csv
import math
import sys

COLUMNS = [
    "timestamp", "git_sha", "host", "cpu_model", "isa", "swift_version", "build_configuration",
    "kernel", "dtype", "op", "target_kind", "rows", "classes", "threads", "repetitions",
    "min_ns", "median_ns", "p90_ns", "max_ns", "ns_per_element", "gb_per_s",
    "memcpy_median_ns", "memcpy_ratio", "exp_ns_per_element", "exp_bound_ratio", "roofline_ns", "roofline_ratio",
    "speedup_vs_scalar", "max_loss_error", "max_gradient_error", "peak_rss_delta_bytes",
    "rounds", "round_median_min_ns", "round_median_max_ns", "alignment",
    "memcpy_threads", "memcpy_threads_median_ns", "roofline_threads_ns", "roofline_threads_ratio",
]
# Added later: a report from before it has none, and its rows count as plain calls.
OPTIONAL_COLUMNS = {"options": "plain"}
OPTIONS = ("plain", "scale", "softcap", "smoothing", "class-weights", "zloss", "row-weights")
LINEAR_COLUMNS = ["hidden", "data", "flops", "gflop_per_s", "filter_skipped", "filter_error"]
LINEAR_NUMERIC = ["hidden", "flops", "gflop_per_s"]
DTYPES = ("f32", "f16", "bf16")
ALIGNMENTS = ("line", "array", "odd")
XENT_KERNELS = ("scalar", "vector", "reference")
LINEAR_OURS = ("xent-linear", "xent-linear-filter", "sgemm", "xent", "sgemm+xent")
NUMERIC = ["rows", "classes", "threads", "repetitions", "min_ns", "median_ns", "p90_ns", "max_ns",
           "ns_per_element", "gb_per_s", "memcpy_median_ns", "memcpy_ratio", "exp_ns_per_element",
           "exp_bound_ratio", "roofline_ns", "roofline_ratio", "rounds", "round_median_min_ns",
           "round_median_max_ns"]


def main(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: missing columns {missing}")
        rows = list(reader)
    for row in rows:
        for column, default in OPTIONAL_COLUMNS.items():
            row.setdefault(column, default)
    if not rows:
        raise SystemExit(f"{path}: no rows")
    linear = "hidden" in reader.fieldnames
    if linear:
        missing = [c for c in LINEAR_COLUMNS if c not in reader.fieldnames]
        if missing:
            raise SystemExit(f"{path}: a linear report without columns {missing}")
    kernels, dtypes = set(), set()
    # A report of some kernels only (--kernels vector) has no scalar case to take a speedup from, and
    # one run with --no-memory-probe no peak memory: those columns are checked where they can exist.
    scalar_cases = {case_key(r) for r in rows if r["kernel"] == "scalar"}
    probed = any(r["peak_rss_delta_bytes"] != "" for r in rows)
    for i, row in enumerate(rows, start=2):
        for column in NUMERIC + (LINEAR_NUMERIC if linear else []):
            value = float(row[column])
            if not math.isfinite(value) or value <= 0:
                raise SystemExit(f"{path}:{i}: {column} = {row[column]!r} is not a positive number")
        if not float(row["min_ns"]) <= float(row["median_ns"]) <= float(row["p90_ns"]) <= float(row["max_ns"]):
            raise SystemExit(f"{path}:{i}: min ≤ median ≤ p90 ≤ max does not hold")
        check_rounds(path, i, row)
        check_roofline(path, i, row)
        check_threaded_roofline(path, i, row)
        if linear:
            check_linear_row(path, i, row)
        else:
            check_softmax_row(path, i, row, case_key(row) in scalar_cases, probed)
        ours = row["kernel"] in XENT_KERNELS + LINEAR_OURS
        if row["alignment"] not in (ALIGNMENTS if ours else ("-",)):
            raise SystemExit(f"{path}:{i}: alignment = {row['alignment']!r} for {row['kernel']!r}")
        if row["options"] not in (OPTIONS if row["kernel"] in XENT_KERNELS else ("plain",)):
            raise SystemExit(f"{path}:{i}: options = {row['options']!r} for {row['kernel']!r}")
        if row["dtype"] not in DTYPES:
            raise SystemExit(f"{path}:{i}: dtype = {row['dtype']!r} is not one of {DTYPES}")
        kernels.add(row["kernel"])
        dtypes.add(row["dtype"])
    if linear:
        check_linear_report(path, rows)
    else:
        check_threaded_bound_measured(path, rows)
    print(f"{path}: {len(rows)} rows, {len(reader.fieldnames)} columns{' (linear head)' if linear else ''}, "
          f"kernels {sorted(kernels)}, dtypes {sorted(dtypes, key=DTYPES.index)}: OK")


def check_rounds(path, i, row):
    """The median of the round medians lies in their range, inside the range of all runs; one round's
    range is its median."""
    rounds = row["rounds"]
    if not rounds.isdigit() or int(rounds) < 1:
        raise SystemExit(f"{path}:{i}: rounds = {rounds!r} is not a positive integer")
    low, median, high = (float(row[c]) for c in ("round_median_min_ns", "median_ns", "round_median_max_ns"))
    if not float(row["min_ns"]) <= low <= median <= high <= float(row["max_ns"]):
        raise SystemExit(f"{path}:{i}: min ≤ round_median_min ≤ median ≤ round_median_max ≤ max does not hold")
    if int(rounds) == 1 and not low == median == high:
        raise SystemExit(f"{path}:{i}: one round, yet its round medians differ from its median")
    if int(row["repetitions"]) < int(rounds):
        raise SystemExit(f"{path}:{i}: fewer repetitions than rounds")


def check_roofline(path, i, row):
    """The roofline is the slower of the row's two bounds, max(memcpy, exp × elements), and its ratio
    the median over it (to the 4 significant digits the report prints ratios and the exp bound with)."""
    elements = float(row["rows"]) * float(row["classes"])
    expected = max(float(row["memcpy_median_ns"]), float(row["exp_ns_per_element"]) * elements)
    if not math.isclose(float(row["roofline_ns"]), expected, rel_tol=1e-3):
        raise SystemExit(f"{path}:{i}: roofline_ns = {row['roofline_ns']} is not max(memcpy_median_ns, "
                         f"exp_ns_per_element × rows × classes) = {expected:.8g}")
    if not math.isclose(float(row["roofline_ratio"]), float(row["median_ns"]) / float(row["roofline_ns"]),
                        rel_tol=1e-3):
        raise SystemExit(f"{path}:{i}: roofline_ratio = {row['roofline_ratio']} is not median_ns / roofline_ns")


def is_positive_number(text):
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value > 0


def check_threaded_roofline(path, i, row):
    """The threaded memcpy bound's thread count and median come together, a count above 1 and a positive
    time; the threaded roofline is max(threaded memcpy bound, exp × elements / threads) on exactly the rows
    that ran on the bound's thread count (another count has no memory bound of its own), its ratio the
    median over it."""
    count, bound = row["memcpy_threads"], row["memcpy_threads_median_ns"]
    if (count == "") != (bound == ""):
        raise SystemExit(f"{path}:{i}: memcpy_threads and memcpy_threads_median_ns are filled together")
    if count != "":
        if not count.isdigit() or int(count) < 2:
            raise SystemExit(f"{path}:{i}: memcpy_threads = {count!r} is not a thread count above 1")
        if not is_positive_number(bound):
            raise SystemExit(f"{path}:{i}: memcpy_threads_median_ns = {bound!r} is not a positive number")
    roofline, ratio = row["roofline_threads_ns"], row["roofline_threads_ratio"]
    threads = int(row["threads"])
    if count == "" or threads < 2 or threads != int(count):
        if roofline != "" or ratio != "":
            raise SystemExit(f"{path}:{i}: a threaded roofline on a row that did not run on memcpy_threads")
        return
    elements = float(row["rows"]) * float(row["classes"])
    expected = max(float(bound), float(row["exp_ns_per_element"]) * elements / threads)
    if roofline == "" or not math.isclose(float(roofline), expected, rel_tol=1e-3):
        raise SystemExit(f"{path}:{i}: roofline_threads_ns = {roofline!r} is not max(memcpy_threads_median_ns, "
                         f"exp_ns_per_element × rows × classes / threads) = {expected:.8g}")
    if ratio == "" or not math.isclose(float(ratio), float(row["median_ns"]) / float(roofline), rel_tol=1e-3):
        raise SystemExit(f"{path}:{i}: roofline_threads_ratio = {ratio!r} is not median_ns / roofline_threads_ns")


def check_threaded_bound_measured(path, rows):
    """A softmax run with a thread count above 1 measures the threaded memcpy bound on its largest count for
    every shape, so every row carries it; a run on one thread measures none."""
    largest = max(int(r["threads"]) for r in rows if r["kernel"] in XENT_KERNELS)
    expected = str(largest) if largest > 1 else ""
    for i, row in enumerate(rows, start=2):
        if row["memcpy_threads"] != expected:
            raise SystemExit(f"{path}:{i}: memcpy_threads = {row['memcpy_threads']!r}, expected {expected!r} "
                             f"(the run's largest thread count when above 1)")


def case_key(row):
    """What a speedup over the scalar kernel pairs: the same shape, type, operation, targets, threads,
    alignment and option."""
    return tuple(row[c] for c in ("rows", "classes", "dtype", "op", "target_kind", "threads", "alignment", "options"))


def check_softmax_row(path, i, row, has_scalar, probed):
    if row["kernel"] in XENT_KERNELS:
        if row["max_loss_error"] == "":
            raise SystemExit(f"{path}:{i}: accuracy missing for {row['kernel']}")
        if has_scalar and row["speedup_vs_scalar"] == "":
            raise SystemExit(f"{path}:{i}: speedup missing for {row['kernel']} beside a scalar case")
        if row["op"] != "fwd" and row["max_gradient_error"] == "":
            raise SystemExit(f"{path}:{i}: gradient error missing")
    if probed and row["kernel"] == "vector" and row["options"] == "plain" and row["peak_rss_delta_bytes"] == "":
        raise SystemExit(f"{path}:{i}: the vector kernel's peak-memory probe is missing")
    if row["options"] != "plain" and row["peak_rss_delta_bytes"] != "":
        raise SystemExit(f"{path}:{i}: a peak-memory probe on a call with an option (the probe runs the plain call)")
    if row["kernel"] not in XENT_KERNELS and row["dtype"] != "f32":
        raise SystemExit(f"{path}:{i}: peer rows are f32, not {row['dtype']!r}")


def check_linear_row(path, i, row):
    kernel, op = row["kernel"], row["op"]
    if kernel not in LINEAR_OURS and not kernel.startswith("torch "):
        raise SystemExit(f"{path}:{i}: {kernel!r} is not a linear-head case")
    if op not in ("fwd", "fwdgrad") or row["target_kind"] != "labels" or row["dtype"] != "f32":
        raise SystemExit(f"{path}:{i}: linear cases are fwd or fwdgrad on class labels in f32")
    if row["data"] not in ("random", "peaked"):
        raise SystemExit(f"{path}:{i}: data = {row['data']!r} is not random or peaked")
    n, d, v = int(row["rows"]), int(row["hidden"]), int(row["classes"])
    expected = (2 if op == "fwd" else 6) * n * d * v
    if not math.isclose(float(row["flops"]), expected, rel_tol=1e-5):
        factor = 2 if op == "fwd" else 6
        raise SystemExit(f"{path}:{i}: flops = {row['flops']} is not {factor}·N·d·V = {expected}")
    if kernel in ("xent-linear", "sgemm+xent"):
        if row["max_loss_error"] == "" or (op != "fwd" and row["max_gradient_error"] == ""):
            raise SystemExit(f"{path}:{i}: accuracy missing for {kernel}")
    if kernel in ("xent-linear", "xent-linear-filter") and row["peak_rss_delta_bytes"] == "":
        raise SystemExit(f"{path}:{i}: the head's peak-memory probe is missing")
    if kernel == "xent-linear-filter":
        if op != "fwdgrad" or row["filter_skipped"] == "" or row["filter_error"] == "":
            raise SystemExit(f"{path}:{i}: a filtered row needs fwdgrad, filter_skipped and filter_error")
        if not 0 <= float(row["filter_skipped"]) <= 1 or not float(row["filter_error"]) >= 0:
            raise SystemExit(f"{path}:{i}: filter_skipped outside [0, 1] or a negative filter_error")
    elif row["filter_skipped"] != "" or row["filter_error"] != "":
        raise SystemExit(f"{path}:{i}: filter columns on an unfiltered row")


def check_linear_report(path, rows):
    """Every xent-linear case has its roofline beside it (sgemm, xent and their sum)."""
    def key(r):
        return (r["rows"], r["hidden"], r["classes"], r["op"], r["threads"])
    present = {}
    for r in rows:
        present.setdefault(key(r), set()).add(r["kernel"])
    for k, kernels in present.items():
        if "xent-linear" in kernels and not {"sgemm", "xent", "sgemm+xent"} <= kernels:
            raise SystemExit(f"{path}: N×d×V, op, threads = {k}: the sgemm+xent roofline rows are missing")
    if not any(r["kernel"] == "xent-linear" for r in rows):
        raise SystemExit(f"{path}: a linear report without xent-linear rows")


if __name__ == "__main__":
    main(sys.argv[1])
