// The command line: training settings whose defaults clear the checks in a few seconds.

/// What `next-token --help` lists.
struct Options {
    var steps = 400
    var batchSize = 512
    var dimension = 64
    var learningRate: Float = 0.01
    var labelSmoothing: Float = 0.1
    var zLoss: Float = 1e-4
    var documents = 3000
    var seed: UInt64 = 7

    static let usage = """
        usage: next-token [--steps N] [--batch-size N] [--dimension N] [--learning-rate X]
                          [--label-smoothing X] [--z-loss X] [--documents N] [--seed N]

          --steps N            Adam steps, one batch each (default 400)
          --batch-size N       rows (tokens) per batch, whole documents packed and padded (default 512)
          --dimension N        hidden size d of the embeddings and the output layer (default 64)
          --learning-rate X    Adam's step size (default 0.01)
          --label-smoothing X  the training loss's label smoothing α (default 0.1; held-out: none)
          --z-loss X           the training loss's z-loss scale λ (default 1e-4; held-out: none)
          --documents N        generated training documents; held out: a tenth as many (default 3000)
          --seed N             seeds the corpus, the initial weights and the batch order (default 7)

        Exits 1 unless the final held-out loss is below 0.75 × the unigram entropy and 0.6 × its
        starting value, and the micro-batch accumulation matches one call on the whole batch.
        """

    /// Parses `arguments` (without the program name); throws `.help` for `--help`.
    init(parsing arguments: [String]) throws(OptionsError) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            if flag == "--help" || flag == "-h" { throw .help }
            guard Self.flags.contains(flag) else { throw .invalid("unknown option \(flag)") }
            guard let value = rest.popFirst() else { throw .invalid("\(flag) needs a value") }
            switch flag {
            case "--steps": steps = try Self.parse(value, flag, Int.init, where: { $0 >= 1 })
            case "--batch-size": batchSize = try Self.parse(value, flag, Int.init, where: { $0 >= 2 })
            case "--dimension": dimension = try Self.parse(value, flag, Int.init, where: { $0 >= 1 })
            case "--learning-rate": learningRate = try Self.parse(value, flag, Float.init, where: { $0 > 0 })
            case "--label-smoothing":
                labelSmoothing = try Self.parse(value, flag, Float.init, where: { $0 >= 0 && $0 <= 1 })
            case "--z-loss": zLoss = try Self.parse(value, flag, Float.init, where: { $0 >= 0 })
            case "--documents": documents = try Self.parse(value, flag, Int.init, where: { $0 >= 10 })
            case "--seed": seed = try Self.parse(value, flag, UInt64.init, where: { _ in true })
            default: throw .invalid("unknown option \(flag)")
            }
        }
    }

    /// The options that take a value (an unknown one is named as such, not as missing its value).
    private static let flags: Set<String> = [
        "--steps", "--batch-size", "--dimension", "--learning-rate", "--label-smoothing", "--z-loss", "--documents",
        "--seed",
    ]

    private static func parse<T>(
        _ text: String, _ flag: String, _ make: (String) -> T?, where isValid: (T) -> Bool
    ) throws(OptionsError) -> T {
        guard let value = make(text), isValid(value) else { throw .invalid("bad value for \(flag): \(text)") }
        return value
    }
}

enum OptionsError: Error {
    case help
    case invalid(String)
}
