// One batch call over given micro-kernels, its every output as bits: for tests that compare two
// paths of the vector kernel that must agree bit for bit (NextRowMaxTests, ScaledExpPassTests,
// TargetSumsExpPassTests).
import CXent
import Foundation
@testable import Xent

/// How many times a wrapped kernel ran since the last `take` (rows run on worker threads too).
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    func take() -> Int { lock.lock(); defer { count = 0; lock.unlock() }; return count }
}

enum BatchBits {
    /// Past every buffer's end and in every row's padding: a read of it would show in a max or a sum.
    static let sentinel: Float = 1e30

    /// One call's outputs over `kernels`: the two loss sums, every row's loss, log-sum-exp and
    /// argmax (unless `argmax` is false: then not asked for), and the gradient, as bits (NaN as one
    /// pattern).
    static func run<Element: LogitElement>(
        _ logits: [Element], labels: [Int32]?, targets: [Element]? = nil, classes: Int, stride: Int,
        gradient: Bool = false, options: SoftmaxCrossEntropy, weights: [Float]? = nil,
        kernels: xent_ukernel_config, threads: Int, argmax askArgmax: Bool = true
    ) throws -> [UInt64] {
        let rows = labels?.count ?? logits.count / stride
        var losses = [Float](repeating: -1, count: rows), lse = losses
        var argmax = [Int32](repeating: -2, count: rows)
        var grad = logits
        var sums = LossSums()
        // Copies that outlive the batch's pointers to them.
        let labelCopy = UnsafeMutableBufferPointer<Int32>.allocate(capacity: labels?.count ?? 0)
        let weightCopy = weights.map { w in UnsafeMutableBufferPointer<Float>.allocate(capacity: w.count) }
        let targetCopy = UnsafeMutableBufferPointer<Element>.allocate(capacity: targets?.count ?? 0)
        defer { labelCopy.deallocate(); weightCopy?.deallocate(); targetCopy.deallocate() }
        if let labels { _ = labelCopy.initialize(from: labels) }
        if let targets { _ = targetCopy.initialize(from: targets) }
        if let weights { _ = weightCopy!.initialize(from: weights) }
        try losses.withUnsafeMutableBufferPointer { l in
            try lse.withUnsafeMutableBufferPointer { s in
                try argmax.withUnsafeMutableBufferPointer { a in
                    try grad.withUnsafeMutableBufferPointer { g in
                        try logits.withUnsafeBufferPointer { z in
                            let statistics = RowStatistics.Buffers(losses: l, logSumExp: s, argmax: askArgmax ? a : nil)
                            let batch = labels != nil
                                ? try Batch(
                                    logits: z, labels: UnsafeBufferPointer(labelCopy), classes: classes,
                                    rowStride: stride, ignoreIndex: options.ignoreIndex, gradient: gradient ? g : nil,
                                    rowStatistics: statistics, reduction: .sum)
                                : try Batch(
                                    logits: z, targets: UnsafeBufferPointer(targetCopy), classes: classes,
                                    rowStride: stride, gradient: gradient ? g : nil, rowStatistics: statistics,
                                    reduction: .sum)
                            let w = weightCopy.map { UnsafePointer($0.baseAddress!) }
                            batch.runRows(
                                VectorKernel(isa: options.activeInstructionSet, kernels: kernels), options,
                                weights: w, rowWeights: nil,
                                denominators: batch.denominators(options, weights: w, rowWeights: nil),
                                isa: options.activeInstructionSet.cValue, threads: threads, into: &sums)
                        }
                    }
                }
            }
        }
        func bits(_ x: Float) -> UInt64 { x.isNaN ? 0x7fc0_0000 : UInt64(x.bitPattern) }
        func bits(_ x: Double) -> UInt64 { x.isNaN ? 0x7ff8_0000_0000_0000 : x.bitPattern }
        let gradientBits = grad.withUnsafeBytes { raw in raw.bindMemory(to: UInt8.self).map { UInt64($0) } }
        return ([bits(sums.crossEntropy), bits(sums.zLoss)] + losses.map(bits) + lse.map(bits)
                    + argmax.map { UInt64(UInt32(bitPattern: $0)) } + (gradient ? gradientBits : []))
    }

    /// `rows` rows of `classes` logits `stride` apart (the last row without its padding), the padding
    /// holding the sentinel, and their labels.
    static func batch(
        rows: Int, classes: Int, stride: Int, kind: LogitKind, seed: UInt64
    ) -> (logits: [Float], labels: [Int32]) {
        let (dense, labels) = kind.batch(rows: rows, classes: classes, seed: seed)
        var logits = [Float](repeating: sentinel, count: (rows - 1) * stride + classes)
        for r in 0..<rows {
            for j in 0..<classes { logits[r * stride + j] = dense[r * classes + j] }
        }
        return (logits, labels)
    }

    /// ``run(_:labels:targets:classes:stride:gradient:options:weights:kernels:threads:)`` over the
    /// logits (and targets) stored as `Float` (`storage` 0 or 3), `Float16` (1) or ``BFloat16`` (2).
    static func run(
        storage: Int, _ logits: [Float], labels: [Int32]?, targets: [Float]? = nil, classes: Int, stride: Int,
        gradient: Bool = false, options: SoftmaxCrossEntropy, weights: [Float]? = nil,
        kernels: xent_ukernel_config, threads: Int
    ) throws -> [UInt64] {
        switch storage {
        case 1:
            try run(logits.map { Float16($0) }, labels: labels, targets: targets?.map { Float16($0) },
                    classes: classes, stride: stride, gradient: gradient, options: options, weights: weights,
                    kernels: kernels, threads: threads)
        case 2:
            try run(logits.map { BFloat16($0) }, labels: labels, targets: targets?.map { BFloat16($0) },
                    classes: classes, stride: stride, gradient: gradient, options: options, weights: weights,
                    kernels: kernels, threads: threads)
        default:
            try run(logits, labels: labels, targets: targets, classes: classes, stride: stride, gradient: gradient,
                    options: options, weights: weights, kernels: kernels, threads: threads)
        }
    }

    /// `run` over the `reference` kernels, then over the `counted` ones: how many outputs differ
    /// (every one when the counts differ) and how many calls `counter` saw in the second run.
    static func compare(
        _ counter: CallCounter, reference: xent_ukernel_config, counted: xent_ukernel_config,
        _ run: (xent_ukernel_config) throws -> [UInt64]
    ) rethrows -> (differing: Int, calls: Int) {
        let expected = try run(reference)
        _ = counter.take()
        let got = try run(counted)
        let calls = counter.take()
        guard got.count == expected.count else { return (max(got.count, expected.count), calls) }
        return (zip(got, expected).filter { $0 != $1 }.count, calls)
    }

    /// Whether `ce`'s in-place call (the gradient over the logits) gives the loss and gradient bits of
    /// its call into a separate gradient: over class labels, or over `targets` when given.
    static func inPlaceAgrees(
        _ ce: SoftmaxCrossEntropy, _ logits: [Float], labels: [Int32], targets: [Float]? = nil, classes: Int
    ) throws -> Bool {
        var gradient = [Float](), overwritten = logits
        let loss: Float, inPlaceLoss: Float
        if let targets {
            loss = try ce.lossAndGradient(logits: logits, targets: targets, classes: classes, gradient: &gradient)
            inPlaceLoss = try ce.lossAndGradient(inPlace: &overwritten, targets: targets, classes: classes)
        } else {
            loss = try ce.lossAndGradient(logits: logits, labels: labels, classes: classes, gradient: &gradient)
            inPlaceLoss = try ce.lossAndGradient(inPlace: &overwritten, labels: labels, classes: classes)
        }
        return inPlaceLoss.bitPattern == loss.bitPattern && overwritten.map(\.bitPattern) == gradient.map(\.bitPattern)
    }
}
