#!/usr/bin/env python3
"""Renders a PNG chart of ns/element per shape per kernel (and peer) from any xent-bench report.

Usage: chart.py REPORT.csv [-o OUT.png] [--op fwdgrad] [--target labels] [--dtype f32] [--alignment line]
                [--options plain]
Bars: each kernel (the vector kernel per ISA) and peer, forward+gradient on class labels with
f32 logits on line-aligned buffers with no call option by default (peers: their own arrays, plain
calls only, so an option's chart has none), one thread; markers: the
memcpy bound of that dtype's element size and the exp-throughput bound of the same run. Reports
from before the dtype column count as f32, from before the alignment column as line, from before the
options column as plain.
Needs matplotlib (Benchmarks/peers/setup.sh installs it).
"""
import argparse
import csv
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("-o", "--output")
    parser.add_argument("--op", default="fwdgrad")
    parser.add_argument("--target", default="labels")
    parser.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    parser.add_argument("--alignment", default="line", choices=["line", "array", "odd"])
    # The report's option names (check_report.py lists them); an unknown one finds no rows, said below.
    parser.add_argument("--options", default="plain")
    args = parser.parse_args()

    with open(args.report, newline="") as f:
        rows = [r for r in csv.DictReader(f)
                if r["op"] == args.op and r["target_kind"] == args.target and r["threads"] == "1"
                and r.get("dtype", "f32") == args.dtype
                and r.get("alignment", "line") in (args.alignment, "-")
                and r.get("options", "plain") == args.options]
    wanted = (f"op={args.op}, target_kind={args.target}, dtype={args.dtype}, alignment={args.alignment}, "
              f"options={args.options}, threads=1")
    # The peers' rows ("-" alignment) alone would make a chart without Xent.
    if not any(r.get("alignment", "line") == args.alignment for r in rows):
        raise SystemExit(f"{args.report}: no Xent rows with {wanted}")

    shapes = list(OrderedDict.fromkeys((int(r["rows"]), int(r["classes"])) for r in rows))
    series = list(OrderedDict.fromkeys(
        r["kernel"] + ("" if r["isa"] in ("-", "") else f" ({r['isa']})") for r in rows))
    value = {}
    memcpy, expb = {}, {}
    # The default ISA: the vector kernel's ISA on rows with more than one thread, else the first.
    vector_rows = [r for r in rows if r["kernel"] == "vector"]
    default_isa = next((r["isa"] for r in vector_rows if r["threads"] != "1"), vector_rows[0]["isa"] if vector_rows else "")
    for r in rows:
        shape = (int(r["rows"]), int(r["classes"]))
        name = r["kernel"] + ("" if r["isa"] in ("-", "") else f" ({r['isa']})")
        value[(name, shape)] = float(r["ns_per_element"])
        elements = shape[0] * shape[1]
        memcpy[shape] = float(r["memcpy_median_ns"]) / elements
        if r["kernel"] == "vector":
            if r["threads"] == "1" and r["isa"] == default_isa:
                expb.setdefault(shape, float(r["exp_ns_per_element"]))

    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(shapes) + 4), 5.5))
    width = 0.8 / max(1, len(series))
    for i, name in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(shapes))]
        ys = [value.get((name, s), float("nan")) for s in shapes]
        ax.bar(xs, ys, width, label=name)
    for j, s in enumerate(shapes):
        ax.hlines(memcpy[s], j - 0.45, j + 0.45, colors="black", linestyles="dashed",
                  label="memcpy bound" if j == 0 else None)
        if s in expb:
            ax.hlines(expb[s], j - 0.45, j + 0.45, colors="red", linestyles="dotted",
                      label=f"exp bound ({default_isa})" if j == 0 else None)
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels([f"{r}×{k}" for r, k in shapes])
    ax.set_yscale("log")
    ax.set_ylabel("ns per element (median, log scale)")
    ax.set_xlabel("rows × classes")
    first = rows[0]
    option = "" if args.options == "plain" else f", {args.options}"
    ax.set_title(f"Softmax cross-entropy, {args.dtype} {args.op} on {args.target}{option}, 1 thread — "
                 f"{first['cpu_model']}, Xent {first['git_sha']}")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    output = args.output or args.report.rsplit(".", 1)[0] + ".png"
    fig.savefig(output, dpi=110)
    print(output)


if __name__ == "__main__":
    main()
