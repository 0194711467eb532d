// Vocabulary-parallel cross-entropy over Open MPI. Each rank makes (seeded) its slice of the
// classes of a rows × V batch, runs the four shard steps with two exchanges — an MPI_MAX
// all-reduce of the row maxima and an MPI_Allgather of the statistics blocks — and writes its
// columns of the gradient. Rank 0 gathers the gradient and checks the loss, the row outputs and
// every gradient entry against one single-process call on the whole rows: bitwise with aligned
// shards, within NUMERICS.md's bounds otherwise. It then runs the all-reduce form and checks it
// within bounds. Exit status 1 on a failed check.
//
//   mpirun -np 4 vocab-parallel [--rows 64] [--classes 128256] [--split aligned|even]
//                               [--options plain|all] [--seed 1]
import CMPI
import Foundation
import Xent

@main
struct VocabParallel {
    static func main() {
        // MARK: Options

        var rows = 64
        var classes = 128_256
        var aligned = true
        var allOptions = false
        var seed: UInt64 = 1
        let usage = "usage: vocab-parallel [--rows N] [--classes N] [--split aligned|even] [--options plain|all] "
            + "[--seed N]"
        /// Exits with status 2 and `message` (a bad value is refused, not replaced by the default).
        func refuse(_ message: String) -> Never {
            FileHandle.standardError.write("vocab-parallel: \(message)\n\(usage)\n".data(using: .utf8)!)
            exit(2)
        }
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst() {
            if flag == "--help" || flag == "-h" {
                print(usage)
                exit(0)
            }
            guard ["--rows", "--classes", "--split", "--options", "--seed"].contains(flag) else {
                refuse("unknown option \(flag)")
            }
            guard let value = arguments.popFirst() else { refuse("\(flag) needs a value") }
            func number<T>(_ make: (String) -> T?, _ isValid: (T) -> Bool) -> T {
                guard let parsed = make(value), isValid(parsed) else { refuse("bad value for \(flag): \(value)") }
                return parsed
            }
            switch flag {
            case "--rows": rows = number({ Int($0) }, { $0 >= 1 })
            case "--classes": classes = number({ Int($0) }, { $0 >= 1 })
            case "--split":
                guard value == "aligned" || value == "even" else { refuse("--split \(value): aligned or even") }
                aligned = value == "aligned"
            case "--options":
                guard value == "plain" || value == "all" else { refuse("--options \(value): plain or all") }
                allOptions = value == "all"
            default: seed = number({ UInt64($0) }, { _ in true })
            }
        }

        // MARK: The data: a counter-based generator, so a rank makes its slice and rank 0 the whole batch
        // with the same values.

        func mix(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        func uniform(_ key: UInt64) -> Float { Float(mix(key) >> 40) * 0x1p-24 }

        /// The label of `row` (every 13th row ignored: −100).
        func label(_ row: Int) -> Int32 {
            row % 13 == 5 ? -100 : Int32(mix(seed &* 31 &+ UInt64(row)) % UInt64(classes))
        }

        /// Logit (row, c): roughly N(0, 2²), the label's class raised so the softmax is peaked like a
        /// trained model's; every 1000th class of every 7th row masked.
        func logit(_ row: Int, _ c: Int) -> Float {
            if row % 7 == 3 && c % 1000 == 0 { return -.infinity }
            let key = (seed << 40) ^ UInt64(row * classes + c)
            var z = (uniform(key) + uniform(key ^ 0xA5A5) + uniform(key ^ 0x5A5A) - 1.5) * 4
            if Int32(c) == label(row) { z += 6 }
            return z
        }

        func classWeight(_ c: Int) -> Float { 0.5 + uniform(0xC1A55 ^ UInt64(c)) }

        func configuration(shard: VocabShard?) -> SoftmaxCrossEntropy {
            var ce = SoftmaxCrossEntropy()
            ce.threads = 1
            if allOptions {
                ce.labelSmoothing = 0.1
                ce.zLossScale = 1e-4
                ce.softcap = 30
                let range = shard.map { $0.offset..<($0.offset + $0.count) } ?? 0..<classes
                ce.classWeights = range.map(classWeight)
            }
            return ce
        }

        // MARK: MPI

        _ = MPI_Init(nil, nil)
        let world = xmpi_comm_world()
        var rankValue: Int32 = 0
        var sizeValue: Int32 = 0
        _ = MPI_Comm_rank(world, &rankValue)
        _ = MPI_Comm_size(world, &sizeValue)
        let rank = Int(rankValue)
        let size = Int(sizeValue)

        func fail(_ message: String) -> Never {
            print("rank \(rank): FAILED: \(message)")
            fflush(nil)
            _ = MPI_Abort(world, 1)
            exit(1)
        }

        func attempt<T>(_ what: String, _ body: () throws(XentError) -> T) -> T {
            do {
                return try body()
            } catch {
                fail("\(what): \(error)")
            }
        }

        let shards = attempt("split") { () throws(XentError) in
            try VocabShard.split(classes: classes, shards: size, aligned: aligned)
        }
        let shard = shards[rank]
        let ce = configuration(shard: shard)
        let labels = (0..<rows).map(label)
        var logits = [Float](repeating: 0, count: rows * shard.count)
        for r in 0..<rows {
            for c in 0..<shard.count { logits[r * shard.count + c] = logit(r, shard.offset + c) }
        }
        var gradient = [Float](repeating: 0, count: logits.count)
        var maxima = [Double](repeating: 0, count: rows * VocabShard.maximaPerRow)
        var block = [Double](repeating: 0, count: VocabShard.statisticsCount(rows: rows))
        var gathered = [Double](repeating: 0, count: block.count * size)
        var rowLosses = [Float](repeating: 0, count: rows)
        var rowLSE = rowLosses
        var rowArgmax = [Int32](repeating: 0, count: rows)
        let state = VocabShardState()
        var times = [(String, Double)]()
        func timed<T>(_ phase: String, _ body: () -> T) -> T {
            _ = MPI_Barrier(world)
            let start = MPI_Wtime()
            let result = body()
            times.append((phase, (MPI_Wtime() - start) * 1000))
            return result
        }

        // MARK: The steps

        timed("local pass") {
            attempt("shardMaxima") { () throws(XentError) in
                try logits.withUnsafeBufferPointer { (z) throws(XentError) in
                    try labels.withUnsafeBufferPointer { (l) throws(XentError) in
                        try gradient.withUnsafeMutableBufferPointer { (g) throws(XentError) in
                            try maxima.withUnsafeMutableBufferPointer { (m) throws(XentError) in
                                try ce.shardMaxima(
                                    logits: z, labels: l, shard: shard, gradient: g, argmax: true, state: state,
                                    rowMaxima: m)
                            }
                        }
                    }
                }
            }
        }
        timed("max all-reduce") {
            _ = MPI_Allreduce(xmpi_in_place(), &maxima, Int32(maxima.count), xmpi_double(), xmpi_max(), world)
        }
        timed("statistics") {
            attempt("shardStatistics") { () throws(XentError) in
                try maxima.withUnsafeBufferPointer { (m) throws(XentError) in
                    try block.withUnsafeMutableBufferPointer { (b) throws(XentError) in
                        try ce.shardStatistics(rowMaxima: m, state: state, statistics: b)
                    }
                }
            }
        }
        timed("all-gather") {
            _ = MPI_Allgather(
                block, Int32(block.count), xmpi_double(), &gathered, Int32(block.count), xmpi_double(), world)
        }
        let loss = timed("combine") {
            attempt("combineShards") { () throws(XentError) in
                try gathered.withUnsafeBufferPointer { (s) throws(XentError) in
                    try rowLosses.withUnsafeMutableBufferPointer { (l) throws(XentError) in
                        try rowLSE.withUnsafeMutableBufferPointer { (e) throws(XentError) in
                            try rowArgmax.withUnsafeMutableBufferPointer { (a) throws(XentError) in
                                try ce.combineShards(
                                    statistics: s, state: state,
                                    rowStatistics: .init(losses: l, logSumExp: e, argmax: a))
                            }
                        }
                    }
                }
            }
        }
        timed("gradient") {
            attempt("shardGradient") { () throws(XentError) in
                try gradient.withUnsafeMutableBufferPointer { (g) throws(XentError) in
                    try ce.shardGradient(gradient: g, state: state)
                }
            }
        }

        // Every rank must hold the same loss: compare its bits across ranks.
        var lossBits = [Double(loss.bitPattern), -Double(loss.bitPattern)]
        _ = MPI_Allreduce(xmpi_in_place(), &lossBits, 2, xmpi_double(), xmpi_max(), world)
        if lossBits[0] != -lossBits[1] { fail("the ranks' losses differ") }

        // The all-reduce form, for transports without an all-gather: within bounds, not bitwise.
        var maximum = [Double](repeating: 0, count: rows * VocabShard.allReduceMaximumPerRow)
        var sums = [Double](repeating: 0, count: rows * VocabShard.allReduceSumPerRow)
        attempt("shardStatisticsForAllReduce") { () throws(XentError) in
            try maxima.withUnsafeBufferPointer { (m) throws(XentError) in
                try maximum.withUnsafeMutableBufferPointer { (x) throws(XentError) in
                    try sums.withUnsafeMutableBufferPointer { (s) throws(XentError) in
                        try ce.shardStatisticsForAllReduce(rowMaxima: m, state: state, maximum: x, sum: s)
                    }
                }
            }
        }
        _ = MPI_Allreduce(xmpi_in_place(), &maximum, Int32(maximum.count), xmpi_double(), xmpi_max(), world)
        _ = MPI_Allreduce(xmpi_in_place(), &sums, Int32(sums.count), xmpi_double(), xmpi_sum(), world)
        let allReducedLoss = attempt("combineAllReduced") { () throws(XentError) in
            try maximum.withUnsafeBufferPointer { (x) throws(XentError) in
                try sums.withUnsafeBufferPointer { (s) throws(XentError) in
                    try ce.combineAllReduced(maximum: x, sum: s, state: state)
                }
            }
        }

        // MARK: Report

        let bytes = (maxima: 8 * maxima.count, statistics: 8 * block.count, allReduce: 8 * (maximum.count + sums.count))
        let phases = times.map { "\($0.0) \(String(format: "%.2f", $0.1))" }.joined(separator: ", ")
        for r in 0..<size {
            _ = MPI_Barrier(world)
            if r == rank {
                print(
                    "rank \(rank): classes \(shard.offset)..<\(shard.offset + shard.count); "
                        + "sent \(bytes.maxima) B (maxima) + "
                        + "\(bytes.statistics) B (statistics) = \((bytes.maxima + bytes.statistics) / rows) B per row; "
                        + "all-reduce form \(bytes.allReduce) B; ms: \(phases)")
                fflush(nil)
            }
        }

        // MARK: Rank 0 checks against one process

        let counts = shards.map { Int32(rows * $0.count) }
        let displacements = counts.indices.map { Int32(counts[..<$0].reduce(0, +)) }
        var collected = [Float](repeating: 0, count: rank == 0 ? rows * classes : 0)
        _ = MPI_Gatherv(
            gradient, Int32(gradient.count), xmpi_float(), &collected, counts, displacements, xmpi_float(), 0, world)

        if rank == 0 {
            var whole = [Float](repeating: 0, count: rows * classes)
            for r in 0..<rows { for c in 0..<classes { whole[r * classes + c] = logit(r, c) } }
            let single = configuration(shard: nil)
            var wholeGradient = [Float]()
            let statistics = RowStatistics()
            let wholeLoss = attempt("one process") { () throws(XentError) in
                try single.lossAndGradient(
                    logits: whole, labels: labels, classes: classes, gradient: &wholeGradient,
                    rowStatistics: statistics)
            }
            // The gathered gradient is shard after shard; put it back in row-major order.
            var sharded = [Float](repeating: 0, count: rows * classes)
            for (k, s) in shards.enumerated() {
                let base = Int(displacements[k])
                for r in 0..<rows {
                    for c in 0..<s.count { sharded[r * classes + s.offset + c] = collected[base + r * s.count + c] }
                }
            }
            let bitwise = shards.allSatisfy(\.isAligned)
            var equalBits = 0
            var worst: Float = 0
            var largest: Float = 0
            for i in sharded.indices {
                if sharded[i].bitPattern == wholeGradient[i].bitPattern { equalBits += 1 }
                if wholeGradient[i].isFinite { largest = max(largest, abs(wholeGradient[i])) }
                if sharded[i].isFinite && wholeGradient[i].isFinite {
                    worst = max(worst, abs(sharded[i] - wholeGradient[i]))
                }
            }
            let rowsEqual =
                rowLosses.map(\.bitPattern) == statistics.losses.map(\.bitPattern)
                && rowLSE.map(\.bitPattern) == statistics.logSumExp.map(\.bitPattern) && rowArgmax == statistics.argmax
            print(
                "rank 0: \(size) shards (\(bitwise ? "aligned" : "not aligned")), \(rows) × \(classes), options "
                    + "\(allOptions ? "all" : "plain"): loss \(loss) vs one process \(wholeLoss); row outputs "
                    + "\(rowsEqual ? "bitwise equal" : "differ"); "
                    + "gradient \(equalBits) of \(sharded.count) entries bitwise equal, "
                    + "largest difference \(worst) (largest entry \(largest)); all-reduce form loss \(allReducedLoss)")
            let relative = { (a: Float, b: Float) in abs(a - b) <= 1e-5 * max(1, abs(b)) }
            if bitwise {
                if loss.bitPattern != wholeLoss.bitPattern || !rowsEqual || equalBits != sharded.count {
                    fail("aligned shards are not bitwise equal to one process")
                }
            } else if !relative(loss, wholeLoss) || worst > 1e-5 * largest {
                fail("the sharded result is outside the bounds")
            }
            if !relative(allReducedLoss, wholeLoss) { fail("the all-reduce form's loss is outside the bounds") }
            print("rank 0: OK")
        }
        _ = MPI_Finalize()
    }
}
