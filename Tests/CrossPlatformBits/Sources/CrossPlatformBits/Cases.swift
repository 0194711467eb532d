// The fixed list of cases: every option, alone and together, every logit kind and special row,
// every entry point and element type, tails from 1 to 3000 classes, rows of several chunks (2048
// elements each) and one of ~70,000 classes, 1 to 3 threads; then seeded random mixtures. The
// list is a function of nothing but this file: the x86-64 and arm64 builds make the same one.
import Xent

func allCases() -> [Case] {
    var cases: [Case] = []
    var seed: UInt64 = 0
    func add(_ c: Case) { cases.append(c) }
    func next() -> UInt64 {
        seed += 1
        return seed
    }
    let reductions: [Reduction] = [.mean, .sum, .none]
    let formats: [Format] = [.f32, .f16, .bf16]

    // Tails: every vector-length remainder near 16, 64, 512 (a Double block) and the chunk length.
    let tails = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 127, 128, 129, 255, 256,
                 257, 511, 512, 513, 1000, 1023, 1024, 1025, 2047, 2048, 2049, 3000]
    for (i, classes) in tails.enumerated() {
        for soft in [false, true] {
            for format in formats {
                var c = Case(group: "tail", rows: 3, classes: classes, seed: next())
                c.kind = LogitKind.allCases[(i + (soft ? 3 : 0)) % LogitKind.allCases.count]
                c.soft = soft
                c.format = format
                c.ce.reduction = reductions[i % 3]
                add(c)
            }
        }
    }

    // Rows of several chunks, split over threads by rows and by chunks.
    for classes in [2050, 4095, 4096, 4097, 6143, 8193, 9000] {
        for soft in [false, true] {
            for format in formats {
                for threads in [1, 2] {
                    var c = Case(group: "chunks", rows: threads == 1 ? 3 : 1, classes: classes, seed: next())
                    c.kind = classes % 2 == 0 ? .normal : .masked
                    c.soft = soft
                    c.format = format
                    c.ce.threads = threads
                    add(c)
                }
            }
        }
    }

    // Each option on its own, then all together, on a one-chunk and a three-chunk shape.
    typealias Option = (SoftmaxCrossEntropy, Int) -> SoftmaxCrossEntropy
    func with(_ change: @escaping (inout SoftmaxCrossEntropy, Int) -> Void) -> Option {
        { ce, classes in
            var ce = ce
            change(&ce, classes)
            return ce
        }
    }
    func weights(_ classes: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed ^ 0x3E16)
        return (0..<classes).map { _ in rng.chance(5) ? 0 : rng.uniform(0, 2) }
    }
    let options: [Option] = [
        with { _, _ in },
        with { ce, _ in ce.ignoreIndex = nil },
        with { ce, _ in ce.ignoreIndex = 2 },
        with { ce, _ in ce.labelSmoothing = 0.1 },
        with { ce, _ in ce.labelSmoothing = 1 },
        with { ce, k in ce.classWeights = weights(k, seed: UInt64(k)) },
        with { ce, _ in ce.zLossScale = 1e-4 },
        with { ce, _ in ce.zLossScale = 0.01 },
        with { ce, _ in ce.logitScale = 0.5 },
        with { ce, _ in ce.logitScale = 2.5 },
        with { ce, _ in ce.softcap = 30 },
        with { ce, _ in ce.softcap = 5 },
        with { ce, _ in ce.gradientScale = 0.25 },
        with { ce, _ in ce.gradientScale = 3 },
        with { ce, _ in ce.divisor = 4096 },
        with { ce, _ in ce.divisor = 7.5 },
        with { ce, k in
            ce.labelSmoothing = 0.1
            ce.classWeights = weights(k, seed: UInt64(k) + 1)
            ce.zLossScale = 1e-4
            ce.logitScale = 0.5
            ce.softcap = 30
            ce.gradientScale = 4
            ce.divisor = 4096
        },
    ]
    for (rows, classes) in [(5, 1031), (3, 4099)] {
        for (i, option) in options.enumerated() {
            for soft in [false, true] {
                for reduction in reductions {
                    var c = Case(group: "option", rows: rows, classes: classes, seed: next())
                    c.kind = i % 2 == 0 ? .normal : .masked
                    c.soft = soft
                    c.ce.reduction = reduction
                    c.ce = option(c.ce, classes)
                    add(c)
                }
            }
        }
        // Row weights (zero, fractional, large), with a z-loss so both denominators carry them.
        for soft in [false, true] {
            for reduction in reductions {
                var c = Case(group: "option-row-weights", rows: rows, classes: classes, seed: next())
                c.soft = soft
                c.ce.reduction = reduction
                c.ce.zLossScale = 1e-3
                c.ce.rowWeights = (0..<rows).map { [0, 0.5, 3, 1.25][$0 % 4] }
                add(c)
            }
        }
        // Everything at once, 16-bit and over threads.
        for format in formats {
            for soft in [false, true] {
                for threads in [1, 2, 3] {
                    var c = Case(group: "option-all", rows: rows, classes: classes, seed: next())
                    c.kind = .masked
                    c.soft = soft
                    c.format = format
                    c.ce = options[options.count - 1](c.ce, classes)
                    c.ce.threads = threads
                    c.ce.reduction = reductions[threads - 1]
                    if !soft { c.ce.ignoreIndex = 1; c.specials = [(1, .ignored)] }
                    add(c)
                }
            }
        }
    }

    // Every kind of logits, every element type, with and without a softcap.
    for kind in LogitKind.allCases {
        for (rows, classes) in [(4, 777), (2, 5000)] {
            for format in formats {
                for soft in [false, true] {
                    var c = Case(group: "kind", rows: rows, classes: classes, seed: next())
                    c.kind = kind
                    c.format = format
                    c.soft = soft
                    c.ce.reduction = reductions[Int(seed % 3)]
                    if seed % 2 == 0 { c.ce.softcap = 20 }
                    add(c)
                }
            }
        }
    }

    // Rows that take no part or poison the batch: NaN, +inf, fully masked, a masked target, ignored
    // (with a NaN logit that must not matter), every row ignored, a zero `.mean` denominator.
    let specials: [[(row: Int, special: Special)]] = [
        [(1, .nan)], [(0, .posInf)], [(2, .allMasked)], [(1, .targetMasked)], [(0, .ignored), (2, .ignored)],
        [(0, .ignored), (1, .ignored), (2, .ignored), (3, .ignored)], [(1, .nan), (2, .targetMasked)],
    ]
    for (i, rowSpecials) in specials.enumerated() {
        for soft in [false, true] where !(soft && rowSpecials.contains { $0.special == .ignored }) {
            for format in [Format.f32, .bf16] {
                for reduction in reductions {
                    for classes in [67, 2500] {
                        var c = Case(group: "special", rows: 4, classes: classes, seed: next())
                        c.kind = i % 2 == 0 ? .normal : .masked
                        c.soft = soft
                        c.format = format
                        c.ce.reduction = reduction
                        c.specials = rowSpecials
                        if classes > 2048 { c.ce.threads = 2 }
                        add(c)
                    }
                }
            }
        }
        // The same rows with a softcap: −inf becomes −c, +inf becomes c.
        var c = Case(group: "special", rows: 4, classes: 300, seed: next())
        c.ce.softcap = 15
        c.specials = rowSpecials
        add(c)
    }
    // A zero denominator: `.mean` over rows whose target classes all weigh 0.
    for soft in [false, true] {
        var c = Case(group: "special-zero-weights", rows: 3, classes: 50, seed: next())
        c.soft = soft
        c.ce.classWeights = [Float](repeating: 0, count: 50)
        add(c)
    }

    // Entry points, label types, padded rows and which row outputs are asked for.
    for (rows, classes) in [(3, 100), (3, 2100)] {
        for entry in [Entry.forward, .gradient, .inPlace] {
            for soft in [false, true] {
                for format in formats {
                    for padding in [0, 13] {
                        var c = Case(group: "entry", rows: rows, classes: classes, seed: next())
                        c.entry = entry
                        c.soft = soft
                        c.format = format
                        c.padding = padding
                        c.kind = .masked
                        c.ce.labelSmoothing = 0.2
                        c.ce.zLossScale = 1e-3
                        c.labelType = [LabelType.i32, .i64, .int][Int(seed % 3)]
                        c.statistics = [Statistics.all, .argmax, .none][Int(seed / 3 % 3)]
                        c.ce.reduction = c.statistics == .all ? reductions[Int(seed % 3)] : .mean
                        add(c)
                    }
                }
            }
        }
    }

    // One long row (~34 chunks), alone and with every option, over 1 and 2 threads.
    for (classes, everything) in [(70_000, false), (70_001, true)] {
        for soft in [false, true] {
            for format in formats {
                for threads in [1, 2] {
                    var c = Case(group: "long", rows: 1, classes: classes, seed: next())
                    c.kind = everything ? .masked : .normal
                    c.soft = soft
                    c.format = format
                    c.ce.threads = threads
                    if everything { c.ce = options[options.count - 1](c.ce, classes) }
                    add(c)
                }
            }
        }
    }

    // Seeded mixtures, as CrossISATests draws them: any shape up to 16 × 9000, any option.
    for _ in 0..<120 {
        var rng = SplitMix64(seed: next() &* 7919)
        var c = Case(group: "random", rows: 1 + rng.below(16), classes: 1, seed: seed)
        c.classes = 1 + rng.below(rng.chance(2) ? 3000 : 9000)
        c.kind = LogitKind.allCases[rng.below(LogitKind.allCases.count)]
        c.soft = rng.chance(3)
        c.format = [Format.f32, .f32, .f32, .f16, .bf16][rng.below(5)]
        c.ce.threads = 1 + rng.below(3)
        c.ce.reduction = reductions[rng.below(3)]
        if rng.chance(3) { c.ce.labelSmoothing = rng.uniform(0, 1) }
        if rng.chance(3) { c.ce.classWeights = weights(c.classes, seed: seed) }
        if rng.chance(3) { c.ce.zLossScale = rng.uniform(0, 0.01) }
        if rng.chance(4) { c.ce.logitScale = rng.uniform(0.25, 3) }
        if rng.chance(4) { c.ce.softcap = rng.uniform(5, 50) }
        if rng.chance(4) { c.ce.gradientScale = rng.uniform(0.1, 4) }
        if rng.chance(5) { c.ce.divisor = Double(rng.uniform(1, 100)) }
        if c.rows > 1 && !c.soft { c.specials = [(0, .ignored)] }
        add(c)
    }
    return cases
}
