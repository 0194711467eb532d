// The loss without gradients, its logits formed a tile of rows × classes at a time.
import Testing
import Xent

@testable import XentLinear

struct LossTileTests {
    @Test("tiles: as many rows as the workspace holds beside panels of at least 4 products, else none")
    func tiles() {
        // 32 MiB: every row of a 256-row batch beside panels of 32768 classes, W read once.
        #expect(
            LinearHead.lossTiles(rows: 256, classes: 128_256, workspaceBytes: 32 << 20, blockRows: 65)
                == LinearHead.LossTiles(rows: 256, classes: 32768))
        // Many rows: panels of 4 products (16384 classes), 512 rows.
        #expect(
            LinearHead.lossTiles(rows: 1024, classes: 32000, workspaceBytes: 32 << 20, blockRows: 262)
                == LinearHead.LossTiles(rows: 512, classes: 16384))
        // The whole batch in one block, a vocabulary no wider than a panel, or no more rows: none.
        #expect(LinearHead.lossTiles(rows: 100, classes: 50257, workspaceBytes: 32 << 20, blockRows: 100) == nil)
        #expect(LinearHead.lossTiles(rows: 5000, classes: 16384, workspaceBytes: 32 << 20, blockRows: 512) == nil)
        #expect(LinearHead.lossTiles(rows: 5000, classes: 20000, workspaceBytes: 20000 * 4, blockRows: 1) == nil)
        // Beyond 1,048,576 classes the panels are also whole row chunks (2112 classes here).
        let wide = LinearHead.lossTiles(rows: 64, classes: 1_081_344, workspaceBytes: 256 << 20, blockRows: 62)
        #expect(wide.map { $0.classes % 2112 == 0 && $0.classes % 4096 == 0 && $0.rows == 64 } == true)
    }

    @Test("the loss without gradients in tiles: every option within bounds, the same bits on any thread count")
    func againstDoubleModel() throws {
        let (rows, d, classes) = (24, 8, 20000)
        // 6 rows of logits, or 8 rows beside a panel of 16384 classes: 3 blocks of 2 panels.
        let workspace = 16384 * 8 * 4
        #expect(
            LinearHead.lossTiles(rows: rows, classes: classes, workspaceBytes: workspace, blockRows: 6)
                == LinearHead.LossTiles(rows: 8, classes: 16384))
        var seed: UInt64 = 900
        for (name, options) in optionSets(rows: rows, classes: classes) {
            seed += 1
            var p = LinearProblem(rows: rows, hiddenSize: d, classes: classes, bias: seed % 2 == 0, soft: false, seed: seed)
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
