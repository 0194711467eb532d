#!/usr/bin/env python3
"""Times Xent's peers on the suite's shapes, one thread each, and prints one JSON line per case.

Run by `xent-bench --peers-python PYTHON`, which attaches the bounds it measured in the same run
and writes the rows into its report. Peers: numpy (float32, stable log-softmax + one-hot
subtract), JAX on CPU (jax.jit(jax.value_and_grad(...)) of logsumexp − target logit), PyTorch
CPU (F.cross_entropy forward + backward), each skipped with a message if it does not import.
Operations: fwd (mean loss) and fwdgrad (mean loss and its gradient), class labels. Accuracy:
per-row losses and the (unscaled) gradient against a float64 numpy reference on the same data.
With --rounds R each shape's peers and ops are timed in R interleaved rounds (every peer and op
once, then all again), each round under the whole repetition policy; a case's line then carries
round_times_ns, one list per round, beside times_ns (all of them).
"""
import argparse
import json
import os
import sys

# One core, so every library runs single-threaded whatever its thread pools do.
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"

import numpy as np  # noqa: E402
from policy import log, timings  # noqa: E402


def make_data(rows, classes, seed=2026):
    rng = np.random.default_rng(seed + rows * classes)
    logits = rng.normal(0.0, 3.0, size=(rows, classes)).astype(np.float32)
    labels = rng.integers(0, classes, size=rows).astype(np.int64)
    return logits, labels


def reference(logits, labels):
    """float64 per-row losses and unscaled gradient p − onehot."""
    z = logits.astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    losses = (lse[:, 0] - z[np.arange(len(labels)), labels])
    grad = np.exp(z - lse)
    grad[np.arange(len(labels)), labels] -= 1.0
    return losses, grad


def max_error(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - b)))


class NumpyPeer:
    name = "numpy " + np.__version__

    def __init__(self, logits, labels):
        self.z, self.t = logits, labels
        self.rows = np.arange(len(labels))

    def row_losses(self):
        m = self.z.max(axis=1, keepdims=True)
        shifted = self.z - m
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_softmax[self.rows, self.t]

    def fwd(self):
        return self.row_losses().mean()

    def fwdgrad(self):
        m = self.z.max(axis=1, keepdims=True)
        shifted = self.z - m
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = (np.log(s[:, 0]) - shifted[self.rows, self.t]).mean()
        grad = e / s
        grad[self.rows, self.t] -= 1.0
        grad /= len(self.t)
        return loss, grad


class JaxPeer:
    def __init__(self, logits, labels):
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import logsumexp

        jax.config.update("jax_platforms", "cpu")
        self.name = "jax " + jax.__version__
        t = jnp.asarray(labels.astype(np.int32))
        rows = jnp.arange(len(labels))

        def row_losses(z):
            return logsumexp(z, axis=1) - z[rows, t]

        def mean_loss(z):
            return jnp.mean(row_losses(z))

        self.z = jax.device_put(jnp.asarray(logits))
        self._row_losses = jax.jit(row_losses)
        self._fwd = jax.jit(mean_loss)
        self._fwdgrad = jax.jit(jax.value_and_grad(mean_loss))

    def row_losses(self):
        return np.asarray(self._row_losses(self.z))

    def fwd(self):
        return self._fwd(self.z).block_until_ready()

    def fwdgrad(self):
        loss, grad = self._fwdgrad(self.z)
        grad.block_until_ready()
        return loss, np.asarray(grad)


class TorchPeer:
    def __init__(self, logits, labels):
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(1)
        self.torch, self.F = torch, F
        self.name = "torch " + torch.__version__.split("+")[0]
        self.z = torch.from_numpy(logits.copy())
        self.t = torch.from_numpy(labels)

    def row_losses(self):
        with self.torch.no_grad():
            return self.F.cross_entropy(self.z, self.t, reduction="none").numpy()

    def fwd(self):
        with self.torch.no_grad():
            return self.F.cross_entropy(self.z, self.t)

    def fwdgrad(self):
        z = self.z.detach().requires_grad_(True)
        loss = self.F.cross_entropy(z, self.t)
        loss.backward()
        return loss, z.grad.numpy()


PEERS = {"numpy": NumpyPeer, "jax": JaxPeer, "torch": TorchPeer}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", required=True, help="rows×classes list, e.g. 4096x1000,8x262144")
    parser.add_argument("--peers", default="numpy,jax,torch")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--max-reps", type=int, default=50)
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes.split(",") if s]
    for rows, classes in shapes:
        measure_shape(rows, classes, args)


def measure_shape(rows, classes, args):
    """Times every peer on one shape (its data and peers freed on return) and prints its lines."""
    logits, labels = make_data(rows, classes)
    ref_losses, ref_grad = reference(logits, labels)
    # Every peer of the shape is built (and its accuracy measured) before any is timed, so the
    # rounds can go over all of them in turn.
    peers = []
    for key in args.peers.split(","):
        try:
            peer = PEERS[key](logits, labels)
        except Exception as error:  # not installed, or no CPU backend
            log(f"peers: {key} skipped: {error}")
            continue
        loss_error = max_error(peer.row_losses(), ref_losses)
        _, grad = peer.fwdgrad()
        peers.append((peer, loss_error, max_error(np.asarray(grad) * rows, ref_grad)))
    rounds = {(peer.name, op): [] for peer, _, _ in peers for op in ("fwd", "fwdgrad")}
    for round_index in range(args.rounds):
        label = f" round {round_index + 1}/{args.rounds}" if args.rounds > 1 else ""
        for peer, _, _ in peers:
            for op in ("fwd", "fwdgrad"):
                times = timings(getattr(peer, op), args.warmup, args.min_reps, args.max_reps, args.min_time)
                rounds[(peer.name, op)].append(times)
                median = sorted(times)[len(times) // 2]
                log(f"  {peer.name:14} {op:7} {rows}×{classes}{label}: {median / (rows * classes):.3f} ns/element")
    for peer, loss_error, grad_error in peers:
        for op in ("fwd", "fwdgrad"):
            measured = rounds[(peer.name, op)]
            line = {
                "kernel": peer.name, "op": op, "target_kind": "labels", "rows": rows, "classes": classes,
                "threads": 1, "times_ns": [t for times in measured for t in times],
                "max_loss_error": loss_error, "max_gradient_error": grad_error if op == "fwdgrad" else None,
            }
            if args.rounds > 1:
                line["round_times_ns"] = measured
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
