// The blocks threads claim as they go (Parallel.forEachBlock, xent_claim_block) and the single
// items (Parallel.forEachClaimedItem, xent_claim_item): every item once, in contiguous blocks that
// shrink or one at a time in order, and a slow thread left with less of the work.
import CXent
import Foundation
import Testing

@testable import Xent

@Suite struct WorkBlockTests {
    /// The blocks one thread claims alone, in order, as (first item, length).
    static func claims(count: Int, workers: Int, minimum: Int) -> [(first: Int, length: Int)] {
        var claimed = 0, first = 0
        var blocks: [(first: Int, length: Int)] = []
        while case let length = xent_claim_block(&claimed, count, workers, minimum, &first), length > 0 {
            blocks.append((first, length))
        }
        return blocks
    }

    /// Polls `done` every millisecond until it holds or `seconds` have passed.
    static func wait(upTo seconds: Double, until done: () -> Bool) {
        let start = Date()
        while !done() && Date().timeIntervalSince(start) < seconds { usleep(1000) }
    }

    @Test("claims run on from 0 to the end in blocks of half of what is left over the workers, at least the minimum")
    func claimSequence() {
        let blocks = Self.claims(count: 100, workers: 2, minimum: 3)
        #expect(blocks.map(\.length) == [25, 18, 14, 10, 8, 6, 4, 3, 3, 3, 3, 3])
        let loops = [(1, 2, 1), (7, 8, 1), (1000, 3, 7), (4096, 2, 16), (5, 2, 9), (97, 4, 0), (9, 0, 2)]
        for (count, workers, minimum) in loops {
            let blocks = Self.claims(count: count, workers: workers, minimum: minimum)
            var next = 0
            for (i, block) in blocks.enumerated() {
                #expect(block.first == next, "\(count) \(workers) \(minimum): block \(i) starts at \(block.first)")
                let left = count - block.first
                let expected = Swift.min(left, Swift.max(Swift.max(1, minimum), left / (2 * Swift.max(1, workers))))
                #expect(block.length == expected, "\(count) \(workers) \(minimum): block \(i)")
                next += block.length
            }
            #expect(next == count, "\(count) \(workers) \(minimum): blocks end at \(next)")
        }
        // Nothing left: every further claim is empty.
        var claimed = 10, first = -1
        #expect(xent_claim_block(&claimed, 10, 2, 1, &first) == 0 && first == -1 && claimed == 10)
        // A small loop is still shared out: the least block is at most half of a worker's share.
        #expect(Parallel.claimMinimum(5, workers: 2, minimumBlock: 5) == 1)
        #expect(Parallel.claimMinimum(4096, workers: 2, minimumBlock: 16) == 16)
        #expect(Parallel.claimMinimum(3, workers: 2, minimumBlock: 0) == 1)
    }

    /// The blocks `Parallel.forEachBlock` hands out, recorded as (range, worker).
    static func blocks(count: Int, workers: Int, minimum: Int, descending: Bool) -> [(Range<Int>, Int)] {
        let lock = NSLock()
        nonisolated(unsafe) var seen: [(Range<Int>, Int)] = []
        Parallel.forEachBlock(count, workers: workers, minimumBlock: minimum, descending: descending) { items, w in
            lock.lock()
            seen.append((items, w))
            lock.unlock()
        }
        return seen
    }

    @Test("threads claim disjoint blocks that cover every item once, ascending or from the last item down",
          arguments: [false, true])
    func blocksCoverEveryItemOnce(descending: Bool) {
        let loops = [(0, 2, 1), (1, 8, 1), (3, 8, 1), (10_000, 8, 7), (4096, 2, 16), (37, 3, 100), (5, 2, 5)]
        for (count, workers, minimum) in loops {
            let seen = Self.blocks(count: count, workers: workers, minimum: minimum, descending: descending)
            var covered = [Int](repeating: 0, count: count)
            for (items, w) in seen {
                #expect(!items.isEmpty && items.lowerBound >= 0 && items.upperBound <= count)
                #expect(w >= 0 && w < Swift.max(1, Swift.min(workers, count)), "worker \(w) of \(workers)")
                for i in items { covered[i] += 1 }
            }
            #expect(covered.allSatisfy { $0 == 1 }, "\(count) items, \(workers) workers: some item not run once")
            // Where the blocks begin and end is one thread's claims' (mirrored when descending).
            let used = Swift.min(workers, count)
            if used > 1 {
                let claims = Self.claims(
                    count: count, workers: used,
                    minimum: Parallel.claimMinimum(count, workers: used, minimumBlock: minimum))
                let expected = claims.map {
                    descending ? count - $0.first - $0.length ..< count - $0.first : $0.first ..< $0.first + $0.length
                }
                #expect(Set(seen.map(\.0)) == Set(expected), "\(count) \(workers) \(minimum): the blocks")
                #expect(expected.count > 1, "\(count) items on \(used) workers: not shared out")
            }
        }
        // One worker: one block, the whole loop, on worker 0.
        let one = Self.blocks(count: 50, workers: 1, minimum: 1, descending: descending)
        #expect(one.count == 1 && one[0].0 == 0..<50 && one[0].1 == 0)
    }

    @Test("forEach with descending groups: every item once, each claimed block in groups of k from its last")
    func forEachDescendingGroups() {
        // One worker: the whole loop in groups of 32 from the last, each ascending.
        var one: [Int] = []
        Parallel.forEach(1000, workers: 1, descendingGroups: 32) { item, _ in one.append(item) }
        let groups = stride(from: 992, through: 0, by: -32).map { Array($0 ..< Swift.min($0 + 32, 1000)) }
        #expect(one == groups.flatMap { $0 })
        // Three workers: each block a worker claims (from the last item down) is walked so.
        let lock = NSLock()
        nonisolated(unsafe) var order: [Int: [Int]] = [:]  // worker → items in the order it ran them
        Parallel.forEach(1000, workers: 3, minimumBlock: 5, descendingGroups: 32) { item, w in
            lock.lock()
            order[w, default: []].append(item)
            lock.unlock()
        }
        #expect(order.values.flatMap { $0 }.sorted() == Array(0..<1000))
        // Within a worker, runs of consecutive items, at most 32 long; a run starts below the last.
        for items in order.values {
            var run = 1
            for (a, b) in zip(items, items.dropFirst()) {
                if b == a + 1 { run += 1 } else {
                    #expect(b < a, "a run \(a) → \(b) that is not consecutive")
                    run = 1
                }
                #expect(run <= 32, "a run of \(run) ascending items: groups of 32 expected")
            }
        }
    }

    @Test("a thread that is slow takes less of the work: the other claims what is left")
    func slowThreadTakesLess() {
        let lock = NSLock()
        nonisolated(unsafe) var items = [0, 0]
        Parallel.forEachBlock(1000, workers: 2, minimumBlock: 1) { block, w in
            lock.lock()
            items[w] += block.count
            lock.unlock()
            // Worker 1 stops after its first block until worker 0 has run the rest (or 10 s have
            // passed): worker 0 always runs, on some thread, so nothing waits on worker 1.
            guard w == 1 else { return }
            Self.wait(upTo: 10) { lock.withLock { items[0] + items[1] == 1000 } }
        }
        #expect(items[0] + items[1] == 1000)
        // Equal ranges fixed in advance would give each 500; worker 1 claims one block (at most 250
        // items: a quarter of the loop) and then finds nothing left.
        #expect(items[1] <= 250, "the slow worker ran \(items[1]) of 1000 items")
    }

    @Test("items claimed one at a time, in order: every item once, and a slow thread takes fewer")
    func claimedItems() {
        // The claims: 0, 1, 2, … whatever the loop's length.
        var claimed = 0
        #expect((0..<5).map { _ in xent_claim_item(&claimed) } == [0, 1, 2, 3, 4] && claimed == 5)
        for (count, workers) in [(0, 2), (1, 4), (9, 2), (200, 3)] {
            let lock = NSLock()
            nonisolated(unsafe) var ran: [(item: Int, thread: pthread_t)] = []
            Parallel.forEachClaimedItem(count, workers: workers) { item in
                lock.lock()
                ran.append((item, pthread_self()))
                lock.unlock()
            }
            #expect(ran.map(\.item).sorted() == Array(0..<count), "\(count) items on \(workers) threads")
            // Claimed in order: each thread's items ascend.
            for (i, a) in ran.enumerated() {
                for b in ran[(i + 1)...] where pthread_equal(a.thread, b.thread) != 0 {
                    #expect(a.item < b.item, "\(count) items: \(a.item) then \(b.item) on one thread")
                }
            }
        }
        // Item 0 (the largest job, say) holds its thread until every other item has run, or 2 s:
        // once the other thread comes, it runs them all, where jobs dealt out in advance would
        // leave half to item 0's. If no other thread came in that time (Dispatch gives none, on one
        // CPU or a busy one), there is nothing to see.
        let lock = NSLock()
        nonisolated(unsafe) var done = 0
        nonisolated(unsafe) var othersBeforeZero = 0
        Parallel.forEachClaimedItem(20, workers: 2) { item in
            if item == 0 {
                Self.wait(upTo: 2) { lock.withLock { done == 19 } }
                lock.withLock { othersBeforeZero = done }
            } else {
                lock.lock()
                done += 1
                lock.unlock()
            }
        }
        #expect(othersBeforeZero == 0 || othersBeforeZero == 19,
                "\(othersBeforeZero) of 19 items ran while item 0 held its thread")
    }
}
