// One linear-head shape's data (H, W, b, labels; random or peaked logits), its gradient buffers,
// and the cases timed on them: XentLinear's head, the sgemm roofline and Xent on whole logits.
import Foundation
import Xent
import XentLinear
#if canImport(Accelerate)
import Accelerate
#else
import CBLASBench
#endif

/// N rows of hidden size d against V classes.
struct LinearShape: Hashable, CustomStringConvertible {
    let rows: Int, hidden: Int, classes: Int

    var description: String { "\(rows)x\(hidden)x\(classes)" }
    var logits: Int { rows * classes }

    /// The head's nominal flops: `2·N·d·V` for the logits, `6·N·d·V` with ∂H and ∂W.
    func flops(_ op: Operation) -> Double {
        Double(op == .forward ? 2 : 6) * Double(rows) * Double(hidden) * Double(classes)
    }

    /// Bytes the head must move at least: read H, W, b and the labels; with gradients, write ∂H,
    /// ∂W and ∂b.
    func headBytes(_ op: Operation) -> Double {
        let inputs = 4.0 * Double(rows * hidden + classes * hidden + classes + rows)
        return op == .forward ? inputs : inputs + 4.0 * Double(rows * hidden + classes * hidden + classes)
    }

    /// "NxDxV" items, e.g. 1024x512x32000.
    static func parse(_ text: String) -> [LinearShape]? {
        let shapes = text.split(separator: ",").map { item -> LinearShape? in
            let parts = item.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { return nil }
            return LinearShape(rows: parts[0], hidden: parts[1], classes: parts[2])
        }
        guard !shapes.isEmpty, shapes.allSatisfy({ $0 != nil }) else { return nil }
        return shapes.map { $0! }
    }
}

/// The two data sets of the linear cases.
enum LinearData: String, CaseIterable {
    /// H ~ N(0, 1/d), W and b uniform with standard deviation 0.02 (an untrained head: logits
    /// near 0, softmax near uniform), labels uniform.
    case random
    /// A trained head's logits: labels Zipf-distributed over the class ids (id = frequency rank),
    /// a bias `b_j = −ln(j + 1)` (the frequent classes have the large logits on every row) and
    /// `h_i` along the label's weight row so that `z_i,label ≈ 6`: the label takes ~97% of the
    /// softmax mass, the first few classes most of the rest.
    case peaked
}

/// A line-aligned buffer that frees itself; shared between the random and peaked data (W).
final class AlignedBuffer<T> {
    let pointer: UnsafeMutableBufferPointer<T>
    init(_ count: Int, zero: T? = nil) {
        pointer = LineAligned.allocate(T.self, capacity: count)
        if let zero { pointer.initialize(repeating: zero) }
    }
    deinit { LineAligned.deallocate(pointer) }
    var constant: UnsafeBufferPointer<T> { UnsafeBufferPointer(pointer) }
}

/// What a linear case computes (see Reports/README.md, "Linear-head reports").
enum LinearCase: String, CaseIterable {
    /// `LinearCrossEntropy` (32 MiB workspace).
    case head = "xent-linear"
    /// The head with gradient filtering at ``LinearWorkload/filterEpsilon``.
    case filtered = "xent-linear-filter"
    /// The three `cblas_sgemm` calls alone on the whole shapes (fwd: the logits only).
    case sgemm
    /// Xent alone on the whole `N × V` logits (fwd: the loss; fwdgrad: in place).
    case xent
}

final class LinearWorkload {
    let shape: LinearShape
    let data: LinearData
    let hidden: AlignedBuffer<Float>
    let weight: AlignedBuffer<Float>
    let bias: AlignedBuffer<Float>
    let labels: AlignedBuffer<Int32>
    let gradHidden: AlignedBuffer<Float>
    let gradWeight: AlignedBuffer<Float>
    let gradBias: AlignedBuffer<Float>
    /// The whole logits (sgemm's output, Xent's input), allocated when first used.
    private(set) lazy var logits = AlignedBuffer<Float>(shape.logits, zero: 0)
    /// A copy of the logits for Xent's in-place runs.
    private(set) lazy var logitsCopy = AlignedBuffer<Float>(shape.logits, zero: 0)

    static let filterEpsilon: Float = 0x1p-12
    /// The peaked data's label logit (above the bias), see ``LinearData/peaked``.
    static let peakedLabelLogit = 6.0

    /// The random data set, or the peaked one (over `sharedWeight` if given: W is the same
    /// distribution for both, and large).
    init(_ shape: LinearShape, data: LinearData, seed: UInt64, sharedWeight: AlignedBuffer<Float>? = nil) {
        self.shape = shape
        self.data = data
        let (n, d, v) = (shape.rows, shape.hidden, shape.classes)
        var rng = SeededGenerator(state: seed ^ UInt64(n &* 1_000_003 &+ d &* 7919 &+ v))
        // W: uniform on ±0.02·√3 (standard deviation 0.02), drawn as 24-bit uniforms (fast).
        let spread = Float(0.02 * 3.0.squareRoot())
        func uniform(_ rng: inout SeededGenerator) -> Float {
            Float(rng.next() >> 40) * 0x1p-24 * 2 * spread - spread
        }
        if let sharedWeight {
            weight = sharedWeight
        } else {
            var wrng = SeededGenerator(state: seed &+ 0x5EED)
            weight = AlignedBuffer(v * d)
            for i in 0..<(v * d) { weight.pointer[i] = uniform(&wrng) }
        }
        hidden = AlignedBuffer(n * d)
        bias = AlignedBuffer(v)
        labels = AlignedBuffer(n)
        var gaussians = GaussianSource()
        switch data {
        case .random:
            let scale = 1 / Double(d).squareRoot()
            for i in 0..<(n * d) { hidden.pointer[i] = Float(gaussians.next(&rng) * scale) }
            for j in 0..<v { bias.pointer[j] = uniform(&rng) }
            for i in 0..<n { labels.pointer[i] = Int32.random(in: 0..<Int32(v), using: &rng) }
        case .peaked:
            // Zipf(1) labels by inverse CDF over the harmonic sums.
            var cumulative = [Double](repeating: 0, count: v)
            var total = 0.0
            for j in 0..<v { total += 1 / Double(j + 1); cumulative[j] = total }
            for i in 0..<n {
                let u = Double.random(in: 0..<total, using: &rng)
                var lo = 0, hi = v - 1
                while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] <= u { lo = mid + 1 } else { hi = mid } }
                labels.pointer[i] = Int32(lo)
            }
            for j in 0..<v { bias.pointer[j] = Float(-logValue(Double(j + 1))) }
            // h_i = c_i·w_y/|w_y|² + noise: z_i,y = c_i + b_y + (noise·w_y), so c_i = 6 − b_y puts the
            // label's logit at ~6; z_i,j = c_i·cos(w_j, w_y)·|w_j|/|w_y| + b_j for the others, whose
            // first factor is ~N(0, c_i²/d).
            let noise = 1 / Double(d).squareRoot()
            for i in 0..<n {
                let y = Int(labels.pointer[i])
                let row = weight.pointer.baseAddress! + y * d
                var norm2 = 0.0
                for k in 0..<d { norm2 += Double(row[k]) * Double(row[k]) }
                let c = (Self.peakedLabelLogit - Double(bias.pointer[y])) / norm2
                for k in 0..<d {
                    hidden.pointer[i * d + k] = Float(c * Double(row[k]) + gaussians.next(&rng) * noise)
                }
            }
        }
        gradHidden = AlignedBuffer(n * d, zero: 0)
        gradWeight = AlignedBuffer(v * d, zero: 0)
        gradBias = AlignedBuffer(v, zero: 0)
    }

    /// The head's configuration: `.mean`, the default vector kernel, `threads`, a workspace of
    /// `workspaceMiB` (the library's default, 32 MiB, unless --linear-workspace-mib says otherwise).
    static func head(threads: Int, filter: Bool, workspaceMiB: Int = 32) -> LinearCrossEntropy {
        var head = LinearCrossEntropy(
            SoftmaxCrossEntropy(), workspaceBytes: workspaceMiB << 20, gradientFilter: filter ? filterEpsilon : nil)
        head.threads = threads
        return head
    }

    /// One call of the head: the loss (fwd) or the loss and ∂H, ∂W, ∂b (fwdgrad), bias on.
    func runHead(
        _ head: LinearCrossEntropy, _ op: Operation, rowLosses: UnsafeMutableBufferPointer<Float>? = nil,
        filterReport: GradientFilterReport? = nil
    ) throws -> Float {
        let statistics = RowStatistics.Buffers(losses: rowLosses)
        if op == .forward {
            return try head.loss(
                hidden: hidden.constant, weight: weight.constant, bias: bias.constant, labels: labels.constant,
                classes: shape.classes, rowStatistics: statistics)
        }
        return try head.lossAndGradients(
            hidden: hidden.constant, weight: weight.constant, bias: bias.constant, labels: labels.constant,
            classes: shape.classes,
            gradients: LinearGradientBuffers(
                hidden: gradHidden.pointer, weight: gradWeight.pointer, bias: gradBias.pointer),
            rowStatistics: statistics, filterReport: filterReport)
    }

    /// The roofline's products alone on the whole shapes: `Z = H·Wᵀ`; with fwdgrad `∂H = Z·W` and
    /// `∂W = Zᵀ·H` (Z standing in for the gradient: the same shapes, strides and work).
    func runSGEMM(_ op: Operation, logits z: UnsafeMutablePointer<Float>) {
        let (n, d, v) = (Int32(shape.rows), Int32(shape.hidden), Int32(shape.classes))
        let h = hidden.pointer.baseAddress!, w = weight.pointer.baseAddress!
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, v, d, 1, h, d, w, d, 0, z, v)
        guard op != .forward else { return }
        let dh = gradHidden.pointer.baseAddress!, dw = gradWeight.pointer.baseAddress!
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, v, 1, z, v, w, d, 0, dh, d)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, v, d, n, 1, z, v, h, d, 0, dw, d)
    }

    /// Fills the whole logits with `H·Wᵀ + b` (sgemm) and their copy for in-place runs.
    func materializeLogits() {
        let (n, d, v) = (shape.rows, shape.hidden, shape.classes)
        let z = logits.pointer.baseAddress!
        for i in 0..<n { (z + i * v).update(from: bias.pointer.baseAddress!, count: v) }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(v), Int32(d), 1, hidden.pointer.baseAddress!,
            Int32(d), weight.pointer.baseAddress!, Int32(d), 1, z, Int32(v))
        prepareInPlace()
    }

    func prepareInPlace() {
        _ = logitsCopy.pointer.update(fromContentsOf: logits.constant)
    }

    /// Xent alone on the whole logits: the loss, or the loss and gradient in place over the copy
    /// (each run takes the previous run's gradient as its logits, as the softmax suite's `inplace`).
    func runXent(_ ce: SoftmaxCrossEntropy, _ op: Operation) throws -> Float {
        if op == .forward {
            return try ce.loss(logits: logits.constant, labels: labels.constant, classes: shape.classes)
        }
        return try ce.lossAndGradient(inPlace: logitsCopy.pointer, labels: labels.constant, classes: shape.classes)
    }

    /// The rows whose losses and ∂H the accuracy checks compare: 8 spread evenly (first and last
    /// included), as Benchmarks/peers/linear_peers.py picks them.
    var sampleRows: [Int] {
        let n = shape.rows, count = 8
        guard n > 1 else { return [0] }
        return Array(Set((0..<count).map { $0 * (n - 1) / (count - 1) })).sorted()
    }

    /// Double per-row losses and unscaled ∂H rows (`Σ_j (p_j − [j = y])·W_j`) of ``sampleRows``.
    func reference() -> (losses: [Double], hiddenGradient: [[Double]]) {
        let (d, v) = (shape.hidden, shape.classes)
        let w = weight.pointer.baseAddress!
        var losses: [Double] = [], gradients: [[Double]] = []
        var z = [Double](repeating: 0, count: v)
        for i in sampleRows {
            let h = hidden.pointer.baseAddress! + i * d
            for j in 0..<v { z[j] = dot(h, w + j * d, d) + Double(bias.pointer[j]) }
            let m = z.max()!
            var s = 0.0
            for j in 0..<v { s += expValue(z[j] - m) }
            let lse = m + logValue(s)
            let y = Int(labels.pointer[i])
            losses.append(lse - z[y])
            var g = [Double](repeating: 0, count: d)
            for j in 0..<v {
                let p = expValue(z[j] - lse) - (j == y ? 1 : 0)
                let row = w + j * d
                for k in 0..<d { g[k] += p * Double(row[k]) }
            }
            gradients.append(g)
        }
        return (losses, gradients)
    }

    /// Largest absolute differences of `losses` (per row, all rows) and `hiddenGradient` (`.mean`'s
    /// ∂H, all rows; scaled by N here) from ``reference()`` on the sample rows.
    func errors(
        losses: UnsafeBufferPointer<Float>, hiddenGradient: UnsafeBufferPointer<Float>?,
        reference: (losses: [Double], hiddenGradient: [[Double]])
    ) -> (loss: Double, gradient: Double?) {
        let d = shape.hidden
        var lossError = 0.0, gradientError = 0.0
        for (index, i) in sampleRows.enumerated() {
            lossError = Swift.max(lossError, abs(Double(losses[i]) - reference.losses[index]))
            if let hiddenGradient {
                for k in 0..<d {
                    let scaled = Double(hiddenGradient[i * d + k]) * Double(shape.rows)
                    let e = abs(scaled - reference.hiddenGradient[index][k])
                    gradientError = Swift.max(gradientError, e.isNaN ? .infinity : e)
                }
            }
        }
        return (lossError.isNaN ? .infinity : lossError, hiddenGradient == nil ? nil : gradientError)
    }
}

/// Σ a_k·b_k in Double, four partial sums.
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var k = 0
    while k + 4 <= count {
        s0 += Double(a[k]) * Double(b[k])
        s1 += Double(a[k + 1]) * Double(b[k + 1])
        s2 += Double(a[k + 2]) * Double(b[k + 2])
        s3 += Double(a[k + 3]) * Double(b[k + 3])
        k += 4
    }
    while k < count { s0 += Double(a[k]) * Double(b[k]); k += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// Standard normal draws by Box–Muller, two per pair of uniforms.
struct GaussianSource {
    private var spare: Double?
    mutating func next(_ rng: inout SeededGenerator) -> Double {
        if let s = spare { spare = nil; return s }
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
        let u2 = Double.random(in: 0..<1, using: &rng)
        let r = (-2 * logValue(u1)).squareRoot()
        spare = r * sinValue(2 * .pi * u2)
        return r * cosValue(2 * .pi * u2)
    }
}

@inline(__always) func expValue(_ x: Double) -> Double { exp(x) }

/// `C (m × n) = A (m × k) · B (k × n)`, row-major, through the benchmark's CBLAS.
func cblasProduct(
    _ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
}

/// OpenBLAS's process-wide thread count for the sgemm roofline's calls (Accelerate chooses its own).
func setBLASThreads(_ threads: Int) {
    #if !canImport(Accelerate)
    openblas_set_num_threads(Int32(threads))
    #endif
}

/// The BLAS in use, for the report: OpenBLAS's configuration string and the kernels it chose at
/// run time (`OPENBLAS_CORETYPE` overrides them), or "Accelerate".
var blasName: String {
    #if canImport(Accelerate)
    return "Accelerate"
    #else
    let coreType = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { ", OPENBLAS_CORETYPE=\($0)" } ?? ""
    return String(cString: openblas_get_config()) + "; kernels: " + String(cString: openblas_get_corename()) + coreType
    #endif
}

/// Whether OpenBLAS runs its generic SSE3 kernels (`Prescott`) on a CPU with AVX2 or AVX-512: a
/// DYNAMIC_ARCH build that does not know the CPU (OpenBLAS 0.3.21 on family 6 model 207, for one)
/// falls back to them, ~6× slower here than its SkylakeX kernels.
var blasFellBack: Bool {
    #if canImport(Accelerate)
    return false
    #else
    return String(cString: openblas_get_corename()) == "Prescott"
        && [.avx512, .avx2].contains(InstructionSet.active)
    #endif
}
