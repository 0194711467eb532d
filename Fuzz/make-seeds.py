#!/usr/bin/env python3
"""Writes the hand-made seeds Fuzz/Corpus/seed-* in the byte layout FuzzCase.swift decodes.

Layout: flags, flags2, shape, stride, options (one byte each, an index into FuzzCase's tables),
an 8-byte seed, one kind byte per row (and raw floats for kind 8), then targets or labels, then
(u16 index, code) pairs planting special values (codes index FuzzCase.specials: 0 NaN, 1 +inf,
2 -inf, 7 1e30, 8 -1e30, 9 the least subnormal, 16 3e4).
"""
import os
import struct

SOFT, IN_PLACE, LOSS_ONLY, ROW_LOSSES, LSE, ARGMAX, WIDE, LONG = 1, 2 << 1, 3 << 1, 8, 16, 32, 64, 128


def u16(v):
    return struct.pack("<H", v)


def case(flags, flags2, shape, stride, options, kinds, tail, patches=()):
    """stride: its byte, and for labels with a stride (byte ≥ 160) the extra-elements byte.
    options: reduction, ignore, smoothing, weightKind, zLoss, gradientScale, divisor, threads,
    logitScale, softcap (indices into FuzzCase's tables; weightKind ≥ 160 for weights)."""
    data = bytes([flags, flags2]) + shape + bytes(stride) + bytes(options) + struct.pack("<Q", 0x5EED)
    data += bytes(kinds) + tail
    for index, code in patches:
        data += u16(index) + bytes([code])
    return data


def label(c):
    return bytes([3]) + u16(c)  # k % 32 ≥ 3: an in-range label u16 % classes


seeds = {
    # 4 rows × 10 classes, labels, defaults: normal, dominant, masked and huge rows.
    "labels-basic": case(ROW_LOSSES | ARGMAX, 0, bytes([3, 9]), [0], [0] * 10, [0, 4, 5, 1],
                         label(2) + label(9) + label(0) + label(5)),
    # Soft targets in place, stride 21 for 10 classes, smoothing 0.1, weights, λ 1e-2, softcap 30,
    # logit scale 0.5, 2 threads, .sum.
    "soft-options-inplace": case(SOFT | IN_PLACE | ROW_LOSSES | LSE, 0, bytes([2, 9]), [163],
                                 [2, 0, 3, 160, 4, 3, 0, 4, 4, 4], [0, 5, 3],
                                 bytes([0, 4, 3])),
    # Two rows of 5040 classes (three 2048-float chunks), labels, z-loss, divisor, ignore row, 3 threads.
    "long-rows": case(LONG | ROW_LOSSES | LSE | ARGMAX, 0, bytes([1]) + u16(3000), [0],
                      [0, 0, 0, 0, 3, 0, 4, 5, 0, 0], [0, 5], label(4096) + bytes([0]),
                      [(2047, 7), (2048, 16), (4095, 2)]),
    # Special values: a NaN row, a +inf row, a row whose label logit is -inf, an all -inf row,
    # an ignored NaN row; Int64 labels, .none.
    "special-rows": case(WIDE | ROW_LOSSES | LSE | ARGMAX, 0, bytes([4, 16]), [0], [3, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                         [0, 0, 0, 9, 0], label(3) + label(3) + label(3) + label(3) + bytes([0]),
                         [(1, 0), (17 + 4, 1), (34 + 3, 2), (68 + 2, 0)] + [(51 + j, 2) for j in range(17)]),
    # Every option invalid at once: the first one checked wins, nothing is written.
    "invalid-options": case(ROW_LOSSES, 0, bytes([1, 5]), [250, 0], [0, 0, 8, 166, 7, 8, 7, 7, 9, 9], [0, 0],
                            label(1) + label(2)),
    # The gradient overlaps the logits (misuse 3): refused.
    "overlap": case(0, 27, bytes([1, 20]), [0], [0] * 10, [0, 0], label(1) + label(2)),
    # Raw logits from the input (kind 8) with tiny values and a subnormal, .scalar-sized tail of 7.
    "raw-tiny": case(0, 0, bytes([0, 6]), [0], [0] * 10, [8],
                     b"".join(struct.pack("<f", v) for v in [1e-38, -1e-45, 0.0, -0.0, 3e-39, 1e-30, 88.7])
                     + label(6), [(3, 9)]),
}

directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")
os.makedirs(directory, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {directory}")
