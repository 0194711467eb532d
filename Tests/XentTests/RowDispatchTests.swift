// A row of one chunk is inlined in VectorKernel; every other row goes through RowPipeline.row or
// halfRow (scratch space, or the chunk table). The choice changes no result when it is right, but a
// wrong one moves the chunk boundaries, and with them the last bits of the Double sums the batch
// completes (S, the loss's parts), which a Float loss rounds away. So the sums are compared here,
// before any rounding: a 16-bit row against the Float row of its widened values, at lengths on
// both sides of one and two chunks, with and without a gradient and a transform, on one worker and
// two.
import CXent
import Testing
@testable import Xent

@Suite struct RowDispatchTests {
    @Test("a 16-bit row's sums and gradient are the widened Float row's, bit for bit, around a chunk's length",
          arguments: InstructionSet.supported)
    func halfMatchesFloat(isa: InstructionSet) {
        let c = cISA(isa)
        for format in [XENT_HALF_BINARY16, XENT_HALF_BFLOAT16] {
            for n in [2047, 2048, 2049, 4096, 4097] {
                var rng = SeededGenerator(seed: UInt64(n))
                let raw = (0..<n).map { _ in rng.normal(sd: 3) }
                let rawTargets = (0..<n).map { _ in Float.random(in: 0..<1, using: &rng) }
                var logits16 = [UInt16](repeating: 0, count: n), targets16 = logits16
                var logits = [Float](repeating: 0, count: n), targets = logits
                MicroKernels.round(c, format, raw, &logits16, count: n)
                MicroKernels.round(c, format, rawTargets, &targets16, count: n)
                MicroKernels.widen(c, format, logits16, &logits, count: n)
                MicroKernels.widen(c, format, targets16, &targets, count: n)
                let label = n / 3
                for soft in [false, true] {
                    for scale: Float in [1, 0.5] {
                        for withGradient in [false, true] {
                            for workers in [1, 2] {
                                let context = "\(isa) \(format) n=\(n) soft \(soft) scale \(scale) "
                                    + "gradient \(withGradient) workers \(workers)"
                                compare(
                                    isa: isa, format: format, logits16: logits16, targets16: targets16,
                                    logits: logits, targets: targets, label: label, soft: soft, scale: scale,
                                    withGradient: withGradient, workers: workers, context: context)
                            }
                        }
                    }
                }
            }
        }
    }

    private func compare(
        isa: InstructionSet, format: xent_half_format, logits16: [UInt16], targets16: [UInt16], logits: [Float],
        targets: [Float], label: Int, soft: Bool, scale: Float, withGradient: Bool, workers: Int, context: String
    ) {
        let n = logits.count
        var params = xent_params()
        params.logit_scale = scale
        params.cross_entropy_gradient_scale = 1
        params.soft_targets = soft ? 1 : 0
        var halfKernel = VectorKernel(isa: isa), floatKernel = VectorKernel(isa: isa)
        halfKernel.prepare(params, storage: .half(format))
        floatKernel.prepare(params, storage: .float32)

        var floatGradient = [Float](repeating: 0, count: n)
        var halfGradient = [UInt16](repeating: 0, count: n)
        let workspace = UnsafeMutablePointer<Float>.allocate(capacity: 2 * n + HalfRow.workspacePadding)
        workspace.initialize(repeating: 0, count: 2 * n + HalfRow.workspacePadding)
        defer { workspace.deallocate() }

        let floatResult = logits.withUnsafeBufferPointer { z in
            targets.withUnsafeBufferPointer { q in
                floatGradient.withUnsafeMutableBufferPointer { g in
                    let gradient = withGradient ? g.baseAddress : nil
                    return soft
                        ? floatKernel.softRow(
                            z.baseAddress!, targets: q.baseAddress!, classes: n, gradient: gradient, params: params,
                            workers: workers, prefetchLimit: n)
                        : floatKernel.labelRow(
                            z.baseAddress!, classes: n, label: label, gradient: gradient, params: params,
                            workers: workers, prefetchLimit: n)
                }
            }
        }
        let halfResult = logits16.withUnsafeBufferPointer { z in
            targets16.withUnsafeBufferPointer { q in
                halfGradient.withUnsafeMutableBufferPointer { g in
                    halfKernel.halfRow(
                        HalfRow(
                            format: format, logits: z.baseAddress!, targets: soft ? q.baseAddress! : nil,
                            label: soft ? nil : label, gradient: withGradient ? g.baseAddress : nil, classes: n,
                            prefetchLimit: n, workspace: workspace),
                        params: params, workers: workers)
                }
            }
        }
        guard let halfResult else {
            Issue.record("\(context): the vector kernel left a 16-bit row to the batch")
            return
        }
        #expect(!floatResult.pendingSum.isNaN, "\(context): a good row's S is pending")
        #expect(halfResult.pendingSum.bitPattern == floatResult.pendingSum.bitPattern,
                "\(context): S \(halfResult.pendingSum) vs Float \(floatResult.pendingSum)")
        #expect(halfResult.crossEntropy.bitPattern == floatResult.crossEntropy.bitPattern,
                "\(context): cross-entropy part \(halfResult.crossEntropy) vs \(floatResult.crossEntropy)")
        #expect(halfResult.logSumExp.bitPattern == floatResult.logSumExp.bitPattern, "\(context): max")
        #expect(halfResult.logSumCoefficient.bitPattern == floatResult.logSumCoefficient.bitPattern,
                "\(context): log S coefficient")
        if withGradient {
            var rounded = [UInt16](repeating: 0, count: n)
            MicroKernels.round(cISA(isa), format, floatGradient, &rounded, count: n)
            #expect(halfGradient == rounded, "\(context): gradient is not the Float one rounded")
        }
    }
}
