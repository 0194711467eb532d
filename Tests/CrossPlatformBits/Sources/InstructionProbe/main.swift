// instruction-probe: one call of the `.vector` kernel between two marker functions, so that an
// emulator's trace can count the guest instructions the call executes (Scripts/test-arm64-swift.sh
// runs it under qemu on arm64, where no core is at hand to time the Swift kernels). A count is
// exact and repeatable where a time is neither, and a vector operation the compiler makes lane by
// lane shows in it as a multiple, as it did (Reports/2026-12-06_arm64-swift-simd-instructions.txt).
//
//   instruction-probe list          # the case names
//   instruction-probe CASE          # a warm-up call, then the measured call between the markers
//
// Each case is 64 rows of 2048 classes, uniform in [-8, 8), one thread; the trace counts what lies
// between the first executions of `xent_probe_begin` and `xent_probe_end`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Xent

let rows = 64, classes = 2048

/// Written by the markers and printed at the end, so the optimizer keeps both calls in place.
nonisolated(unsafe) var markerCount = 0

@_silgen_name("xent_probe_begin") @inline(never)
func probeBegin() { markerCount &+= 1 }

@_silgen_name("xent_probe_end") @inline(never)
func probeEnd() { markerCount &+= 2 }  // not probeBegin's body: the two must stay two

/// `rows × classes` logits uniform in [-8, 8) from a 64-bit linear congruential generator (inputs
/// only: any will do), in a plain loop, so that making them adds little to the emulator's trace.
func logits<Element: LogitElement>(_ convert: (Float) -> Element) -> [Element] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return [Element](unsafeUninitializedCapacity: rows * classes) { buffer, count in
        for i in 0..<buffer.count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            buffer.initializeElement(at: i, to: convert(Float(state >> 40) * 0x1p-24 * 16 - 8))
        }
        count = buffer.count
    }
}

/// Soft targets: 1/8 on eight classes of each row, zero elsewhere.
func targets<Element: LogitElement>(_ convert: (Float) -> Element) -> [Element] {
    var q = [Element](repeating: convert(0), count: rows * classes)
    for r in 0..<rows { for k in 0..<8 { q[r * classes + (r * 31 + k * 97) % classes] = convert(0.125) } }
    return q
}

let labels = (0..<rows).map { Int32($0 * 31 % classes) }

/// One case: its configuration, and a call that runs it once.
struct Case {
    var name: String
    var call: () throws(XentError) -> Float
}

func configuration(_ change: (inout SoftmaxCrossEntropy) -> Void = { _ in }) -> SoftmaxCrossEntropy {
    var ce = SoftmaxCrossEntropy(kernel: .vector, threads: 1)
    change(&ce)
    return ce
}

func labelsGradient<Element: LogitElement>(
    _ name: String, _ convert: (Float) -> Element, statistics: RowStatistics? = nil,
    _ change: (inout SoftmaxCrossEntropy) -> Void = { _ in }
) -> Case {
    let ce = configuration(change), x = logits(convert)
    var gradient = x
    return Case(name: name) { () throws(XentError) -> Float in
        try ce.lossAndGradient(logits: x, labels: labels, classes: classes, gradient: &gradient,
                               rowStatistics: statistics)
    }
}

func targetsGradient<Element: LogitElement>(
    _ name: String, _ convert: (Float) -> Element, _ change: (inout SoftmaxCrossEntropy) -> Void = { _ in }
) -> Case {
    let ce = configuration(change), x = logits(convert), q = targets(convert)
    var gradient = x
    return Case(name: name) { () throws(XentError) -> Float in
        try ce.lossAndGradient(logits: x, targets: q, classes: classes, gradient: &gradient)
    }
}

func labelsLoss(_ name: String) -> Case {
    let ce = configuration(), x = logits { $0 }
    return Case(name: name) { () throws(XentError) -> Float in
        try ce.loss(logits: x, labels: labels, classes: classes)
    }
}

let cases: [String: () -> Case] = [
    "f32-labels-loss": { labelsLoss("f32-labels-loss") },
    "f32-labels-gradient": { labelsGradient("f32-labels-gradient", { $0 }) },
    "f32-labels-gradient-statistics": {
        labelsGradient("f32-labels-gradient-statistics", { $0 }, statistics: RowStatistics(.all))
    },
    "f32-labels-smoothing": { labelsGradient("f32-labels-smoothing", { $0 }) { $0.labelSmoothing = 0.1 } },
    "f32-labels-weights": {
        labelsGradient("f32-labels-weights", { $0 }) { $0.classWeights = (0..<classes).map { Float(1 + $0 % 3) } }
    },
    "f32-labels-scale": { labelsGradient("f32-labels-scale", { $0 }) { $0.logitScale = 0.5 } },
    "f32-labels-softcap": { labelsGradient("f32-labels-softcap", { $0 }) { $0.softcap = 30 } },
    "f32-labels-zloss": { labelsGradient("f32-labels-zloss", { $0 }) { $0.zLossScale = 1e-4 } },
    "f32-targets-gradient": { targetsGradient("f32-targets-gradient", { $0 }) },
    "f32-targets-smoothing": { targetsGradient("f32-targets-smoothing", { $0 }) { $0.labelSmoothing = 0.1 } },
    "f16-labels-gradient": { labelsGradient("f16-labels-gradient", { Float16($0) }) },
    "bf16-labels-gradient": { labelsGradient("bf16-labels-gradient", { BFloat16($0) }) },
    "bf16-labels-smoothing": {
        labelsGradient("bf16-labels-smoothing", { BFloat16($0) }) { $0.labelSmoothing = 0.1 }
    },
]

func fail(_ message: String) -> Never {
    var text = "instruction-probe: \(message)\n"
    _ = text.withUTF8 { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count == 2 else { fail("usage: instruction-probe list | CASE") }
if arguments[1] == "list" {
    for name in cases.keys.sorted() { print(name) }
    exit(0)
}
guard let make = cases[arguments[1]] else { fail("no case \(arguments[1]) (instruction-probe list)") }
let probe = make()
do {
    let warm = try probe.call()
    probeBegin()
    let loss = try probe.call()
    probeEnd()
    guard loss.bitPattern == warm.bitPattern, loss.isFinite else {
        fail("\(probe.name): the warm-up call's loss \(warm), the measured call's \(loss)")
    }
    print("\(probe.name) \(rows)x\(classes) on \(InstructionSet.active): loss \(loss), markers \(markerCount)")
} catch {
    fail("\(probe.name) was refused: \(error)")
}
