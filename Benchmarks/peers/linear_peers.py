#!/usr/bin/env python3
"""Times PyTorch's linear cross-entropy paths on the linear-head shapes; one JSON line per case.

Run by `xent-bench --linear --peers-python PYTHON`, which attaches the bounds it measured in the
same run and writes the rows into its linear-head report. Shapes are N×d×V: H (N×d) ~ N(0, 1/d),
W (V×d) and b (V) uniform with standard deviation 0.02, labels uniform (xent-bench's "random"
data, drawn here by torch's generator). Paths, each at every --threads count
(torch.set_num_threads):

  eager        F.linear + F.cross_entropy (+ .backward() for ∂H, ∂W, ∂b)
  lce          F.linear_cross_entropy with its defaults (options=None: the reference path)
  lce-chunked  F.linear_cross_entropy with torch.nn.LinearCrossEntropyOptions() (chunked over rows;
               chunking_method "auto" picks the chunk)
  mm           the three products alone, torch.mm into preallocated outputs (Z = H·Wᵀ; with
               fwdgrad also ∂H = Z·W and ∂W = Zᵀ·H): PyTorch's BLAS roofline (MKL in the PyPI wheel)

With --rounds R each shape's cases (every path, thread count and op) are timed in R interleaved
rounds: every case once, then again; `round_times_ns` then holds each round's runs.

Operations: fwd (mean loss, under no_grad) and fwdgrad (mean loss and ∂H, ∂W, ∂b; the gradients are
set to None before each run, as optimizer.zero_grad() does). Accuracy: per-row losses and the
unscaled ∂H (∂H × N) of 8 rows against float64 on the same data. Peak memory: a child process per
case (this script with --probe) builds the inputs, runs the case once on a tiny shape, then reads
its peak resident set (VmHWM) before and after one call of the real shape: `peak_rss_delta_bytes`
is the growth above the inputs and the outputs the call returns (∂H, ∂W, ∂b), read per phase for
fwdgrad (see probe()).
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys

from policy import log, timings  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:  # every path is PyTorch's: main() reports it and measures nothing
    torch = F = None
    TORCH_MISSING = error

PATHS = ("eager", "lce", "lce-chunked", "mm")
SAMPLE_ROWS = 8


def make_data(rows, hidden, classes, seed):
    """Inputs built in place (no temporaries, so a probe's baseline is the inputs alone)."""
    g = torch.Generator().manual_seed(seed + rows * hidden * classes)
    spread = 0.02 * math.sqrt(3.0)  # uniform on [-spread, spread]: standard deviation 0.02
    h = torch.randn(rows, hidden, generator=g).div_(math.sqrt(hidden))
    w = torch.rand(classes, hidden, generator=g).mul_(2).sub_(1).mul_(spread)
    b = torch.rand(classes, generator=g).mul_(2).sub_(1).mul_(spread)
    t = torch.randint(0, classes, (rows,), generator=g, dtype=torch.int64)
    return h, w, b, t


def sample_rows(rows):
    return sorted({k * (rows - 1) // (SAMPLE_ROWS - 1) for k in range(SAMPLE_ROWS)}) if rows > 1 else [0]


def reference(h, w, b, t, rows):
    """float64 per-row losses and unscaled ∂H (Σ_j (p_j − y_j) W_j) of the sample rows."""
    h64 = h[rows].double()
    z = torch.empty(len(rows), w.shape[0], dtype=torch.float64)
    for start in range(0, w.shape[0], 16384):
        z[:, start:start + 16384] = h64 @ w[start:start + 16384].double().T + b[start:start + 16384].double()
    lse = torch.logsumexp(z, dim=1)
    labels = t[rows]
    losses = lse - z[torch.arange(len(rows)), labels]
    g = torch.exp(z - lse[:, None])
    g[torch.arange(len(rows)), labels] -= 1.0
    dh = torch.zeros(len(rows), w.shape[1], dtype=torch.float64)
    for start in range(0, w.shape[0], 16384):
        dh += g[:, start:start + 16384] @ w[start:start + 16384].double()
    return losses, dh


class Path:
    """One PyTorch path on one shape's tensors: fwd(), fwdgrad() and the row losses."""

    def __init__(self, key, h, w, b, t):
        self.key, self.h, self.w, self.b, self.t = key, h, w, b, t
        version = torch.__version__.split("+")[0]
        self.name = {
            "eager": f"torch {version} eager",
            "lce": f"torch {version} linear_cross_entropy",
            "lce-chunked": f"torch {version} linear_cross_entropy chunked",
            "mm": f"torch {version} mm",
        }[key]
        self.options = torch.nn.LinearCrossEntropyOptions() if key == "lce-chunked" else None
        # mm's outputs are allocated by its first call (z a temporary, like the logits of the other
        # paths); release() drops them.
        self.z = self.dh = self.dw = None
        self.leaves = None

    def loss(self, h, w, b, reduction="mean"):
        if self.key == "eager":
            return F.cross_entropy(F.linear(h, w, b), self.t, reduction=reduction)
        return F.linear_cross_entropy(h, w, self.t, linear_bias=b, reduction=reduction, options=self.options)

    def fwd(self):
        if self.key == "mm":
            if self.z is None:
                self.z = torch.empty(self.h.shape[0], self.w.shape[0])
            return torch.mm(self.h, self.w.T, out=self.z)
        with torch.no_grad():
            return self.loss(self.h, self.w, self.b)

    def fwdgrad(self):
        if self.key == "mm":
            z = self.fwd()
            if self.dh is None:
                self.dh, self.dw = torch.empty_like(self.h), torch.empty_like(self.w)
            torch.mm(z, self.w, out=self.dh)
            torch.mm(z.T, self.h, out=self.dw)
            return None, self.dh, self.dw, None
        if self.leaves is None:
            self.leaves = [x.detach().requires_grad_(True) for x in (self.h, self.w, self.b)]
        for x in self.leaves:
            x.grad = None
        h, w, b = self.leaves
        loss = self.loss(h, w, b)
        loss.backward()
        return loss, h.grad, w.grad, b.grad

    def release(self):
        """Drops what the last calls left (the autograd gradients; mm's logits and products, up to
        V×d floats each), so that a shape's paths can all stay built between rounds while each is
        timed with only its own memory."""
        if self.leaves is not None:
            for x in self.leaves:
                x.grad = None
        self.z = self.dh = self.dw = None

    def row_losses(self):
        with torch.no_grad():
            return self.loss(self.h, self.w, self.b, reduction="none")


def max_error(a, b):
    return float((a.double() - b).abs().max())


def peak_resident_bytes():
    """VmHWM of /proc/self/status (this process's own peak; a child started by vfork + exec
    inherits its parent's ru_maxrss, which would hide any growth below the parent's peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak():
    """Sets VmHWM to the current resident set (Linux's /proc/self/clear_refs "5"); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def probe(spec, seed):
    """Child process: the peak-RSS growth of one call of a path above its inputs and its outputs.

    fwdgrad (not mm) is read in two phases, the high-water mark reset in between: the forward's peak
    growth (the logits and what autograd saves; the chunked path computes its gradients here, so its
    outputs are subtracted from this phase too) and the backward's peak growth above the same baseline
    minus the gradients it returns. Their maximum is the call's temporaries at their peak, as
    xent-bench's probe reads them with its outputs allocated beforehand. (One high-water mark over
    the whole call minus the outputs would miss a forward peak that the backward frees before
    allocating ∂W: 2× too low for eager at 256×1024×128256.)"""
    key, op, rows, hidden, classes, threads = spec.split(",")
    rows, hidden, classes, threads = int(rows), int(hidden), int(classes), int(threads)
    torch.set_num_threads(threads)
    tiny = Path(key, *make_data(2 * threads, 8, 64, seed))
    getattr(tiny, op)()
    getattr(tiny, op)()
    path = Path(key, *make_data(rows, hidden, classes, seed))
    if op == "fwdgrad" and key != "mm" and reset_peak():
        leaves = [x.detach().requires_grad_(True) for x in (path.h, path.w, path.b)]
        base = peak_resident_bytes()
        loss = path.loss(*leaves)
        forward = peak_resident_bytes() - base
        reset_peak()
        loss.backward()
        backward = peak_resident_bytes() - base
        outputs = sum(x.grad.numel() * x.grad.element_size() for x in leaves)
        print(max(forward - (outputs if key == "lce-chunked" else 0), backward - outputs))
        return
    if key == "mm":
        path.dh, path.dw = torch.empty_like(path.h), torch.empty_like(path.w)
    before = peak_resident_bytes()
    result = getattr(path, op)()
    after = peak_resident_bytes()
    outputs = 0
    if op == "fwdgrad" and key != "mm":
        outputs = sum(x.numel() * x.element_size() for x in result[1:] if x is not None)
    # mm's ∂H and ∂W are allocated before the call but not touched (torch.empty_like): their pages
    # count in the growth when the call writes them, unlike xent-bench's outputs, touched beforehand.
    print(after - before - outputs)


def probe_in_child(key, op, rows, hidden, classes, threads, seed):
    spec = f"{key},{op},{rows},{hidden},{classes},{threads}"
    out = subprocess.run([sys.executable, __file__, "--probe", spec, "--seed", str(seed)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        log(f"  probe {spec} failed: {out.stderr.strip().splitlines()[-1:] or out.returncode}")
        return None
    return int(out.stdout.strip().splitlines()[-1])


def measure_shape(rows, hidden, classes, path_keys, threads, ops, args):
    """Times every path of one shape (its data and paths freed on return); its result rows."""
    results = []
    h, w, b, t = make_data(rows, hidden, classes, args.seed)
    sample = sample_rows(rows)
    ref_losses, ref_dh = reference(h, w, b, t, sample)
    # Every path of the shape is built (and its accuracy measured) before any is timed, so the
    # rounds can go over all of them in turn.
    paths = []
    for key in path_keys:
        path = Path(key, h, w, b, t)
        loss_error = grad_error = None
        if key != "mm":
            torch.set_num_threads(1)
            loss_error = max_error(path.row_losses()[sample], ref_losses)
            _, dh, _, _ = path.fwdgrad()
            grad_error = max_error(dh[sample] * rows, ref_dh)
            del dh
            path.release()
        if key == "lce-chunked":
            resolved = path.options._adjust(rows, hidden, classes, h.dtype, h.device)
            log(f"  {path.name}: batch_chunk_size {resolved.batch_chunk_size}, "
                f"acc_policy {resolved.acc_policy}")
        paths.append((path, loss_error, grad_error))
    measured = {(path.key, count, op): [] for path, _, _ in paths for count in threads for op in ops}
    for round_index in range(args.rounds):
        label = f" round {round_index + 1}/{args.rounds}" if args.rounds > 1 else ""
        for path, _, _ in paths:
            for count in threads:
                torch.set_num_threads(count)
                for op in ops:
                    times = timings(getattr(path, op), args.warmup, args.min_reps, args.max_reps, args.min_time)
                    measured[(path.key, count, op)].append(times)
                    median = sorted(times)[len(times) // 2]
                    log(f"  {path.name:42} {op:7} {count}t {rows}×{hidden}×{classes}{label}: "
                        f"{median / 1e6:.1f} ms")
            path.release()
    for path, loss_error, grad_error in paths:
        for count in threads:
            for op in ops:
                rounds = measured[(path.key, count, op)]
                result = {
                    "kernel": path.name, "path": path.key, "op": op, "target_kind": "labels", "rows": rows,
                    "hidden": hidden, "classes": classes, "threads": count, "data": "random",
                    "times_ns": [t for times in rounds for t in times], "max_loss_error": loss_error,
                    "max_gradient_error": grad_error if op == "fwdgrad" else None,
                    "peak_rss_delta_bytes": None,
                }
                if args.rounds > 1:
                    result["round_times_ns"] = rounds
                results.append(result)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", help="N×d×V list, e.g. 1024x512x32000,256x1024x128256")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}")
    parser.add_argument("--ops", default="fwd,fwdgrad")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--max-reps", type=int, default=50)
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-memory-probe", action="store_true")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        return probe(args.probe, args.seed)

    if torch is None:
        log(f"linear peers: skipped, PyTorch does not import ({TORCH_MISSING})")
        return
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes.split(",") if s]
    threads = list(dict.fromkeys(int(t) for t in args.threads.split(",")))
    if args.rounds < 1:
        raise SystemExit("--rounds must be ≥ 1")
    path_keys = list(dict.fromkeys(p for p in args.paths.split(",") if p))
    for p in path_keys:
        if p not in PATHS:
            raise SystemExit(f"unknown path {p!r}; expected one of {PATHS}")
    ops = args.ops.split(",")
    results = []
    for rows, hidden, classes in shapes:
        results += measure_shape(rows, hidden, classes, path_keys, threads, ops, args)
    # Probes after every case is timed (a child process between timed cases disturbs the next one).
    if not args.no_memory_probe:
        log(f"  memory probes: {len(results)} child processes")
        for r in results:
            r["peak_rss_delta_bytes"] = probe_in_child(
                r["path"], r["op"], r["rows"], r["hidden"], r["classes"], r["threads"], args.seed)
    for r in results:
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
