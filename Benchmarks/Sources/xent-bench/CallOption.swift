// The options a call can set (--options): each case's configuration with one of them, so a report
// gives what each costs beside the plain call on the same data, shape and kernel.
import Xent

/// One of ``SoftmaxCrossEntropy``'s options at a fixed, typical value, or none (`plain`).
enum CallOption: String, CaseIterable {
    case plain
    case scale
    case softcap
    case smoothing
    case classWeights = "class-weights"
    case zLoss = "zloss"
    case rowWeights = "row-weights"

    /// What the option sets, for the report.
    var setting: String {
        switch self {
        case .plain: return "no option"
        case .scale: return "logitScale = 2"
        case .softcap: return "softcap = 30"
        case .smoothing: return "labelSmoothing = 0.1"
        case .classWeights: return "classWeights uniform in [0.5, 1.5)"
        case .zLoss: return "zLossScale = 1e-4"
        case .rowWeights: return "rowWeights uniform in [0.5, 1.5)"
        }
    }

    /// `ce` with this option set for `rows` × `classes` logits; the weights are drawn from a fixed
    /// seed, the same in every run.
    func applied(to ce: SoftmaxCrossEntropy, rows: Int, classes: Int) -> SoftmaxCrossEntropy {
        var ce = ce
        switch self {
        case .plain: break
        case .scale: ce.logitScale = 2
        case .softcap: ce.softcap = 30
        case .smoothing: ce.labelSmoothing = 0.1
        case .classWeights: ce.classWeights = Self.weights(classes, seed: 1)
        case .zLoss: ce.zLossScale = 1e-4
        case .rowWeights: ce.rowWeights = Self.weights(rows, seed: 2)
        }
        return ce
    }

    private static func weights(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(state: seed ^ UInt64(count))
        return (0..<count).map { _ in Float.random(in: 0.5..<1.5, using: &rng) }
    }
}
