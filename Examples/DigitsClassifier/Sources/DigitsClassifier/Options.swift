// The command line: training settings with defaults that reach > 90% in well under a second.

/// What `digits-classifier --help` lists.
struct Options {
    var epochs = 20
    var batchSize = 32
    var learningRate: Float = 0.5
    var seed: UInt64 = 42
    var testFraction = 0.2
    var dataPath = Dataset.defaultPath

    static let usage = """
        usage: digits-classifier [--epochs N] [--batch-size N] [--learning-rate X] [--seed N] [--data PATH]

          --epochs N          passes over the training set (default 20)
          --batch-size N      examples per gradient step (default 32)
          --learning-rate X   step size η (default 0.5)
          --seed N            seeds the train/test split and the epoch shuffles (default 42)
          --data PATH         scikit-learn's digits.csv (default: this package's Data/digits.csv)

        Exits 1 if the final held-out accuracy is not above 90%.
        """

    /// Parses `arguments` (without the program name); throws `.help` for `--help`.
    init(parsing arguments: [String]) throws(OptionsError) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            if flag == "--help" || flag == "-h" { throw .help }
            guard Self.flags.contains(flag) else { throw .invalid("unknown option \(flag)") }
            guard let value = rest.popFirst() else { throw .invalid("\(flag) needs a value") }
            switch flag {
            case "--epochs": epochs = try Self.parse(value, flag, Int.init, where: { $0 >= 1 })
            case "--batch-size": batchSize = try Self.parse(value, flag, Int.init, where: { $0 >= 1 })
            case "--learning-rate": learningRate = try Self.parse(value, flag, Float.init, where: { $0 > 0 })
            case "--seed": seed = try Self.parse(value, flag, UInt64.init, where: { _ in true })
            case "--data": dataPath = value
            default: throw .invalid("unknown option \(flag)")
            }
        }
    }

    /// The options that take a value (an unknown one is named as such, not as missing its value).
    private static let flags: Set<String> = ["--epochs", "--batch-size", "--learning-rate", "--seed", "--data"]

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
