// The loss without gradients, its logits formed a tile of rows × classes at a time.
import Testing
import Xent

@testable import XentLinear

struct LossTileTests {
    /// The bytes a tile of `tiles` takes: its logits and what Xent keeps per row.
    static func tileBytes(_ tiles: LinearHead.LossTiles, classes: Int) -> Int {
        let (perRow, fixed) = VocabShard.panelBookkeeping(classes: classes, panel: tiles.classes)
        return tiles.rows * (4 * tiles.classes + perRow) + fixed
    }

    @Test("tiles: panels in steps of 4096 classes and of row chunks, as many rows as fit beside them, in the budget")
    func tiles() throws {
        for (rows, classes, workspace) in [
            (256, 128_256, 32 << 20), (1024, 32000, 32 << 20), (512, 50257, 32 << 20), (65536, 128_256, 32 << 20),
            (64, 1_081_344, 256 << 20), (3000, 262_144, 8 << 20), (24, 20000, 4096 * 15 * 4),
        ] {
            let blockRows = Swift.min(rows, workspace / (4 * classes))
            let tiles = try #require(
                LinearHead.lossTiles(rows: rows, classes: classes, workspaceBytes: workspace, blockRows: blockRows))
            let chunk = VocabShard.alignment(classes: classes)
            #expect(tiles.classes % LinearHead.lossPanelStep == 0 && tiles.classes % chunk == 0)
            #expect(tiles.classes < classes && tiles.rows > blockRows && tiles.rows <= rows)
            #expect(Self.tileBytes(tiles, classes: classes) <= workspace, "\(rows)×\(classes): \(tiles)")
            // The rows dealt out evenly: the blocks differ by less than a row each.
            let blocks = (rows + tiles.rows - 1) / tiles.rows
            #expect(blocks * tiles.rows - rows < blocks, "\(rows)×\(classes): \(tiles)")
        }
        // 32 MiB: every row beside panels whose logits take at most 16 MiB: 16384 classes of 128256,
        // 4096 of 32000, 8192 of 50257 (W read once); 65536 rows of 128256: the narrowest panel,
        // 66 blocks of 993 rows.
        for (rows, classes, blockRows, expected) in [
            (256, 128_256, 65, LinearHead.LossTiles(rows: 256, classes: 16384)),
            (1024, 32000, 262, LinearHead.LossTiles(rows: 1024, classes: 4096)),
            (512, 50257, 166, LinearHead.LossTiles(rows: 512, classes: 8192)),
            (65536, 128_256, 65, LinearHead.LossTiles(rows: 993, classes: 4096)),
        ] {
            #expect(
                LinearHead.lossTiles(rows: rows, classes: classes, workspaceBytes: 32 << 20, blockRows: blockRows)
                    == expected, "\(rows)×\(classes)")
        }
        // Every row fits beside a panel of 8192 classes (or a wider one), whose logits take more than
        // half the workspace: 8192, not the half-workspace panel (4096, products of 512 classes).
        let wide = LinearHead.LossTiles(rows: 1000, classes: 8192)
        #expect(
            LinearHead.lossTiles(rows: 1000, classes: 50000, workspaceBytes: Self.tileBytes(wide, classes: 50000),
                                 blockRows: 1) == wide)
        for workspace in [20 << 20, 28 << 20] {
            #expect(
                LinearHead.lossTiles(rows: 512, classes: 50257, workspaceBytes: workspace, blockRows: 100)
                    == LinearHead.LossTiles(rows: 512, classes: 8192), "\(workspace >> 20) MiB")
        }
        // The whole batch in one block, a vocabulary no wider than a panel, or no more rows: none.
        #expect(LinearHead.lossTiles(rows: 100, classes: 50257, workspaceBytes: 32 << 20, blockRows: 100) == nil)
        #expect(LinearHead.lossTiles(rows: 5000, classes: 4096, workspaceBytes: 32 << 20, blockRows: 512) == nil)
        #expect(LinearHead.lossTiles(rows: 5000, classes: 8192, workspaceBytes: 8192 * 4, blockRows: 1) == nil)
        // A workspace near Int.max holds whole rows (and no panel's bytes overflow on the way).
        #expect(LinearHead.lossTiles(rows: 1, classes: 500_000, workspaceBytes: .max, blockRows: 1) == nil)
        // A workspace of one whole row holds four rows beside the narrowest panel.
        #expect(
            LinearHead.lossTiles(rows: 5000, classes: 20000, workspaceBytes: 20000 * 4, blockRows: 1)
                == LinearHead.LossTiles(rows: 4, classes: 4096))
    }

    @Test("a panel's products: at most eight, whole lines wide but the last, covering the panel in order")
    func products() {
        for count in 1...20000 {
            let offset = 4096 * (count % 3)
            let products = LinearHead.lossProducts(offset: offset, count: count)
            #expect(products.first?.lowerBound == offset && products.last?.upperBound == offset + count, "\(count)")
            #expect(zip(products, products.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(count)")
            #expect(products.dropLast().allSatisfy { !$0.isEmpty && $0.count % 16 == 0 } && !products.last!.isEmpty)
            #expect(products.count <= LinearHead.jobsPerLossPanel && (count <= 784 || products.count == 8), "\(count)")
        }
        #expect(LinearHead.lossProducts(offset: 12288, count: 12288).map(\.count) == Array(repeating: 1536, count: 8))
        #expect(
            LinearHead.lossProducts(offset: 49152, count: 1105).map(\.count) == Array(repeating: 144, count: 7) + [97])
    }

    /// `LinearHead.loss` with `tiles` on the problem's labels: the reduced loss and the row losses.
    static func tiled(
        _ p: LinearProblem, _ options: SoftmaxCrossEntropy, tiles: LinearHead.LossTiles, workspace: Int
    ) throws -> (Float, [Float]) {
        var losses = [Float](repeating: .nan, count: p.rows)
        func withBias<R>(_ body: (UnsafeBufferPointer<Float>?) throws -> R) throws -> R {
            guard let bias = p.bias else { return try body(nil) }
            return try bias.withUnsafeBufferPointer { try body($0) }
        }
        let head = LinearCrossEntropy(options, workspaceBytes: workspace)
        let loss = try p.labels.withUnsafeBufferPointer { labels in
            try p.hidden.withUnsafeBufferPointer { hidden in
                try p.weight.withUnsafeBufferPointer { weight in
                    try losses.withUnsafeMutableBufferPointer { losses in
                        try withBias { bias in
                            let plan = try options.planRowBlocks(labels: labels, classes: p.classes)
                            let linear = try LinearHead(
                                head, plan: plan, hidden: hidden, weight: weight, bias: bias,
                                targets: ("labels", UnsafeRawBufferPointer(labels), 1),
                                gradients: LinearGradientBuffers(),
                                rowStatistics: RowStatistics.Buffers(losses: losses))
                            return try linear.loss(labels: labels, tiles: tiles, options: head)
                        }
                    }
                }
            }
        }
        return (loss, losses)
    }

    @Test("the loss without gradients in tiles: every option within bounds, the same bits on any thread count")
    func againstDoubleModel() throws {
        let (rows, d, classes) = (24, 8, 19997)
        // 3 rows of logits, or 12 rows beside a panel of 4096 classes: 2 blocks of 5 panels, the
        // last of 3613 classes (products of 464 classes, the last 365); on 1, 2 and 3 threads.
        let workspace = 4096 * 15 * 4
        let tiles = LinearHead.LossTiles(rows: 12, classes: 4096)
        #expect(LinearHead.lossTiles(rows: rows, classes: classes, workspaceBytes: workspace, blockRows: 3) == tiles)
        var seed: UInt64 = 900
        for (name, options) in optionSets(rows: rows, classes: classes) {
            seed += 1
            var p = LinearProblem(
                rows: rows, hiddenSize: d, classes: classes, bias: seed % 2 == 0, soft: false, seed: seed)
            p.labels[3] = options.ignoreIndex ?? 0
            p.labels[4] = Int32(classes - 1)
            p.labels[5] = 16384
            let truth = try LinearTruth(p, options)
            var results: [(Float, RowStatistics)] = []
            for threads in [1, 2, 3] {
                var head = LinearCrossEntropy(options, workspaceBytes: workspace)
                head.threads = threads
                let statistics = RowStatistics()
                let loss = try head.loss(
                    hidden: p.hidden, weight: p.weight, bias: p.bias, labels: p.labels, classes: classes,
                    rowStatistics: statistics)
                results.append((loss, statistics))
            }
            let (loss, statistics) = results[0]
            // The call took the tiles: the same bits as the tiles' loop called directly (the
            // blocks of whole rows differ from them in some row losses here, by the products).
            let direct = try Self.tiled(p, options, tiles: tiles, workspace: workspace)
            #expect(direct.0.bitPattern == loss.bitPattern, "\(name): against the tiles called directly")
            #expect(Bool(direct.1.map(\.bitPattern) == statistics.losses.map(\.bitPattern)), "\(name): row losses")
            #expect(
                abs(Double(loss) - truth.loss) <= truth.lossBound || loss == Float(truth.loss),
                "\(name): loss \(loss), expected \(truth.loss) ± \(truth.lossBound)")
            let violation = firstViolation("row losses", statistics.losses, truth.rowLosses, truth.rowLossBounds)
            #expect(violation == nil, "\(name): \(violation ?? "")")
            for (other, threads) in zip(results.dropFirst(), [2, 3]) {
                #expect(other.0.bitPattern == loss.bitPattern, "\(name): loss on \(threads) threads")
                #expect(Bool(other.1.losses == statistics.losses && other.1.logSumExp == statistics.logSumExp
                             && other.1.argmax == statistics.argmax), "\(name): rows on \(threads) threads")
            }
            // The argmax: a largest logit of the row (the products round the logits, so a tie within
            // their rounding may go either way).
            let (z, _) = p.logits()
            for i in 0..<rows where p.labels[i] != options.ignoreIndex {
                let row = z[(i * classes)..<((i + 1) * classes)]
                let top = row.max()!
                let picked = Int(statistics.argmax[i])
                #expect(
                    (0..<classes).contains(picked) && z[i * classes + picked] >= top - 1e-5 * (abs(top) + 1),
                    "\(name): argmax of row \(i)")
            }
        }
    }
}
