// The CPUs `threads = nil` splits a call over: the cgroup and affinity parsers on real-format text,
// the quota of a fake cgroup tree, and the live count, also with this thread pinned to one and two CPUs.
import CXent
import Foundation
import Testing
@testable import Xent

@Suite struct AvailableCPUsTests {
    // MARK: - Parsers

    @Test("cgroup v2 cpu.max: the quota in whole CPUs, rounded up; nil for max and for other text")
    func cpuMax() {
        #expect(cgroupV2QuotaCPUs(cpuMax: "max 100000") == nil)
        #expect(cgroupV2QuotaCPUs(cpuMax: "max 100000\n") == nil)
        #expect(cgroupV2QuotaCPUs(cpuMax: "200000 100000") == 2)
        #expect(cgroupV2QuotaCPUs(cpuMax: "200000 100000\n") == 2)
        #expect(cgroupV2QuotaCPUs(cpuMax: "150000 100000\n") == 2)
        #expect(cgroupV2QuotaCPUs(cpuMax: "50000 100000\n") == 1)
        #expect(cgroupV2QuotaCPUs(cpuMax: "1000 100000\n") == 1)
        #expect(cgroupV2QuotaCPUs(cpuMax: "100000 100000\n") == 1)
        #expect(cgroupV2QuotaCPUs(cpuMax: "400000 50000\n") == 8)
        for garbage in ["", "\n", "max", "200000", "200000 100000 1", "abc def", "2e5 100000", "-1 100000",
                        "200000 0", "200000 max", "0 100000"] {
            #expect(cgroupV2QuotaCPUs(cpuMax: garbage) == nil, "\(garbage.debugDescription)")
        }
    }

    @Test("cgroup v1 cpu.cfs_quota_us over cpu.cfs_period_us: rounded up; -1 and other text give nil")
    func cfsQuota() {
        #expect(cgroupV1QuotaCPUs(quota: "-1\n", period: "100000\n") == nil)
        #expect(cgroupV1QuotaCPUs(quota: "200000\n", period: "100000\n") == 2)
        #expect(cgroupV1QuotaCPUs(quota: "150000", period: "100000") == 2)
        #expect(cgroupV1QuotaCPUs(quota: "50000\n", period: "100000\n") == 1)
        #expect(cgroupV1QuotaCPUs(quota: "", period: "100000\n") == nil)
        #expect(cgroupV1QuotaCPUs(quota: "200000\n", period: "") == nil)
        #expect(cgroupV1QuotaCPUs(quota: "200000\n", period: "0\n") == nil)
        #expect(cgroupV1QuotaCPUs(quota: "lots\n", period: "100000\n") == nil)
        #expect(cgroupV1QuotaCPUs(quota: "200000 1\n", period: "100000\n") == nil)
    }

    @Test("the CPUs of a quota round up without overflowing")
    func quotaRounding() {
        #expect(quotaCPUs(quota: Int.max, period: 1) == Int.max)
        #expect(quotaCPUs(quota: Int.max, period: 2) == Int.max / 2 + 1)
        #expect(quotaCPUs(quota: 1, period: Int.max) == 1)
        #expect(quotaCPUs(quota: -1, period: 100_000) == nil)
    }

    @Test("/proc/self/cgroup: the v2 path of the 0:: line, the v1 path of the cpu controller's line")
    func selfCgroup() {
        let v2 = "0::/user.slice/user-1000.slice/session-2.scope\n"
        #expect(cgroupV2Path(procSelfCgroup: v2) == "/user.slice/user-1000.slice/session-2.scope")
        #expect(cgroupV2Path(procSelfCgroup: "0::/\n") == "/")
        #expect(cgroupV2Path(procSelfCgroup: "0::/a:b\n") == "/a:b")
        #expect(cgroupV1Path(procSelfCgroup: v2, controller: "cpu") == nil)
        // A v1 host (Docker's layout), cpu mounted with cpuacct.
        let v1 = """
            12:pids:/docker/4f1e
            5:cpuset:/docker/4f1e
            4:cpu,cpuacct:/docker/4f1e
            1:name=systemd:/docker/4f1e

            """
        #expect(cgroupV2Path(procSelfCgroup: v1) == nil)
        #expect(cgroupV1Path(procSelfCgroup: v1, controller: "cpu") == "/docker/4f1e")
        // A hybrid host: v1 controllers and the v2 hierarchy; cpu and cpuacct apart, cpuacct first.
        let hybrid = """
            9:name=systemd:/
            4:memory:/process_api/598ad00e
            2:cpuacct:/acct
            1:cpu:/limited
            0::/

            """
        #expect(cgroupV2Path(procSelfCgroup: hybrid) == "/")
        #expect(cgroupV1Path(procSelfCgroup: hybrid, controller: "cpu") == "/limited")
        #expect(cgroupV2Path(procSelfCgroup: "") == nil)
        #expect(cgroupV1Path(procSelfCgroup: "garbage", controller: "cpu") == nil)
    }

    @Test("a cgroup's directory and its ancestors' under the mount; only the mount for a path with ..")
    func directories() {
        #expect(cgroupDirectories(path: "/a/b", mount: "/m") == ["/m/a/b", "/m/a", "/m"])
        #expect(cgroupDirectories(path: "/", mount: "/m") == ["/m"])
        #expect(cgroupDirectories(path: "", mount: "/m") == ["/m"])
        #expect(cgroupDirectories(path: "/../../x", mount: "/m") == ["/m"])
    }

    @Test("an affinity mask's CPUs are its set bits")
    func maskCount() {
        #expect(cpuCount(inMask: []) == 0)
        #expect(cpuCount(inMask: [0, 0b1011, UInt.max]) == 3 + UInt.bitWidth)
    }

    // MARK: - A fake cgroup tree

    /// Writes `files` (paths relative to a new temporary directory, which stands for /sys/fs/cgroup,
    /// and `self` for /proc/self/cgroup) and returns cgroupQuotaCPUs of that tree.
    func quota(_ files: [String: String]) throws -> Int? {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("xent-cgroup-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: false, encoding: .utf8)
        }
        return cgroupQuotaCPUs(
            selfCgroupFile: root.appendingPathComponent("self").path,
            mount: root.appendingPathComponent("fs").path)
    }

    @Test("the quota of a cgroup tree: the smallest along the path, v2 before v1, the root's as a fallback")
    func cgroupTree() throws {
        // v2: the process's own cgroup, a parent's smaller quota, "max" below a quota.
        let v2 = { (parent: String, child: String) in
            ["self": "0::/a/b\n", "fs/a/cpu.max": parent + "\n", "fs/a/b/cpu.max": child + "\n"]
        }
        #expect(try quota(v2("max 100000", "400000 100000")) == 4)
        #expect(try quota(v2("150000 100000", "800000 100000")) == 2)
        #expect(try quota(v2("300000 100000", "max 100000")) == 3)
        #expect(try quota(["self": "0::/a/b\n", "fs/a/b/cpu.max": "max 100000\n"]) == nil)
        // v2 in a container that sees its own cgroup at the mount: the host's path is missing, the root's file counts.
        #expect(try quota(["self": "0::/system.slice/docker-4f1e.scope\n", "fs/cpu.max": "200000 100000\n"]) == 2)
        // No /proc/self/cgroup: the root's files.
        #expect(try quota(["fs/cpu.max": "50000 100000\n"]) == 1)
        // v1 (and a hybrid host's cpu controller).
        let v1Self = "4:cpu,cpuacct:/docker/4f1e\n1:name=systemd:/docker/4f1e\n0::/\n"
        #expect(try quota([
            "self": v1Self, "fs/cpu/docker/4f1e/cpu.cfs_quota_us": "300000\n",
            "fs/cpu/docker/4f1e/cpu.cfs_period_us": "100000\n",
        ]) == 3)
        #expect(try quota([
            "self": v1Self, "fs/cpu/docker/4f1e/cpu.cfs_quota_us": "-1\n",
            "fs/cpu/docker/4f1e/cpu.cfs_period_us": "100000\n", "fs/cpu/docker/cpu.cfs_quota_us": "150000\n",
            "fs/cpu/docker/cpu.cfs_period_us": "100000\n", "fs/cpu/cpu.cfs_quota_us": "-1\n",
            "fs/cpu/cpu.cfs_period_us": "100000\n",
        ]) == 2)
        #expect(try quota([
            "self": v1Self, "fs/cpu/cpu.cfs_quota_us": "-1\n", "fs/cpu/cpu.cfs_period_us": "100000\n",
        ]) == nil)
        #expect(try quota([
            "self": v1Self, "fs/cpu/cpu.cfs_quota_us": "100000\n", "fs/cpu/cpu.cfs_period_us": "100000\n",
        ]) == 1)
        // A v2 quota wins over v1 files.
        #expect(try quota([
            "self": v1Self, "fs/cpu.max": "500000 100000\n", "fs/cpu/cpu.cfs_quota_us": "100000\n",
            "fs/cpu/cpu.cfs_period_us": "100000\n",
        ]) == 5)
        #expect(try quota([:]) == nil)
    }

    // MARK: - This process

    @Test("the live count is at least 1 and at most the online processors; Parallel.cores is one of them")
    func live() {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let count = availableCPUs()
        #expect(count >= 1)
        #expect(count <= Swift.max(1, online))
        #expect(Parallel.cores >= 1 && Parallel.cores <= Swift.max(1, online))
        #if os(Linux)
        let mask = affinityMask()
        #expect(mask != nil)
        #expect(count <= cpuCount(inMask: mask ?? []))
        if let quota = cgroupQuotaCPUs() { #expect(count <= quota) }
        #endif
    }

    #if os(Linux)
    /// Sets this thread's affinity to the CPUs `cpus` of `mask` (indices into its set bits), runs `body`,
    /// and restores the mask. sched_getaffinity(0, …) reads the calling thread's mask, so this tests
    /// the real mechanism without `taskset` and without touching the other threads.
    func pinned(to cpus: Int, of mask: [UInt], _ body: () -> Void) throws {
        let width = UInt.bitWidth
        let set = (0..<(mask.count * width)).filter { mask[$0 / width] >> ($0 % width) & 1 != 0 }
        var narrow = [UInt](repeating: 0, count: mask.count)
        for cpu in set.prefix(cpus) { narrow[cpu / width] |= 1 << (cpu % width) }
        try #require(narrow.withUnsafeBytes { xent_set_affinity($0.baseAddress, $0.count) } == 0)
        defer {
            #expect(mask.withUnsafeBytes { xent_set_affinity($0.baseAddress, $0.count) } == 0)
            #expect(affinityMask() == mask, "the mask is restored")
        }
        body()
    }

    @Test("this thread pinned to one CPU (sched_setaffinity): the count is 1")
    func pinnedToOne() throws {
        let mask = try #require(affinityMask())
        try pinned(to: 1, of: mask) {
            #expect(affinityMask().map(cpuCount(inMask:)) == 1)
            #expect(availableCPUs() == 1)
        }
    }

    @Test("this thread pinned to two CPUs: the count is 2, or the quota if smaller",
          .enabled(if: (affinityMask().map(cpuCount(inMask:)) ?? 0) >= 2, "needs two CPUs"))
    func pinnedToTwo() throws {
        let mask = try #require(affinityMask())
        try pinned(to: 2, of: mask) {
            #expect(affinityMask().map(cpuCount(inMask:)) == 2)
            #expect(availableCPUs() == Swift.min(2, cgroupQuotaCPUs() ?? 2))
        }
    }

    @Test("a mask the kernel refuses (4 bytes, not a whole word: EINVAL) is asked for again, longer")
    func maskRetry() throws {
        let mask = try #require(affinityMask())
        let retried = try #require(affinityMask(initialBytes: 4))
        #expect(cpuCount(inMask: retried) == cpuCount(inMask: mask))
        #expect(Array(retried.prefix(mask.count)) == Array(mask.prefix(retried.count)))
    }
    #endif

    /// Skipped unless XENT_EXPECT_CPUS is set: `.ci/run` sets it to 1 and runs this suite under
    /// `taskset -c 0`, checking the value the library caches for the whole process.
    @Test("under taskset: Parallel.cores and availableCPUs() equal XENT_EXPECT_CPUS (skipped when unset)",
          .enabled(if: ProcessInfo.processInfo.environment["XENT_EXPECT_CPUS"] != nil,
                   "set XENT_EXPECT_CPUS=N and run under `taskset` with N CPUs"))
    func expectedUnderTaskset() throws {
        let expected = try #require(ProcessInfo.processInfo.environment["XENT_EXPECT_CPUS"].flatMap { Int($0) })
        #expect(Parallel.cores == expected)
        #expect(availableCPUs() == expected)
    }
}
