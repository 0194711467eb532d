// The CPUs this process may run on: how many threads `threads = nil` splits a large call over.
import CXent

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPUs this process may run on, at least 1, computed afresh on every call (a system call and a
/// few small file reads); ``Parallel/cores`` keeps the first answer for the life of the process.
///
/// On Linux it is the smaller of
/// - the CPUs in the calling thread's affinity mask, which `taskset`, `numactl`, a cpuset cgroup and
///   `docker --cpuset-cpus` narrow (a thread inherits its creator's mask, so the calling thread's is
///   the process's unless someone pinned that one thread), and
/// - the CPU quota of the process's cgroup (`docker --cpus`, a Kubernetes CPU limit, systemd's
///   `CPUQuota=`), rounded up to whole CPUs;
///
/// elsewhere, the online processors. The online processors alone are the host's: a container limited
/// to 4 CPUs of a 128-CPU host would split every large call 128 ways, its threads queueing for the 4
/// CPUs (or, under a quota, the whole cgroup throttled for the rest of each period), and the call
/// waiting for the last of them.
func availableCPUs() -> Int {
    let online = Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #if os(Linux)
    var count = affinityMask().map(cpuCount(inMask:)) ?? online
    if let quota = cgroupQuotaCPUs() { count = Swift.min(count, quota) }
    return Swift.max(1, count)
    #else
    return online
    #endif
}

// MARK: - The affinity mask

/// The calling thread's affinity mask (`sched_getaffinity(0, …)`; CPU i is bit i mod w of word i / w,
/// w = `UInt.bitWidth`), or nil if it cannot be read (not Linux, or the call is refused).
///
/// The first try is `initialBytes` long, glibc's `cpu_set_t` (1024 CPUs) by default; the kernel
/// refuses (EINVAL) a buffer shorter than its own mask, which is longer on kernels built for more
/// CPUs, so on EINVAL the buffer doubles and the call is tried again.
func affinityMask(initialBytes: Int = 128) -> [UInt]? {
    let wordBytes = MemoryLayout<UInt>.size
    var bytes = Swift.max(1, initialBytes)
    while bytes <= 1 << 20 {
        var words = [UInt](repeating: 0, count: (bytes + wordBytes - 1) / wordBytes)
        let error = words.withUnsafeMutableBytes { xent_get_affinity($0.baseAddress, bytes) }
        if error == 0 { return words }
        guard error == EINVAL else { return nil }
        bytes *= 2
    }
    return nil
}

/// The CPUs in an affinity mask: its set bits (what glibc's `CPU_COUNT` macro counts).
func cpuCount(inMask mask: [UInt]) -> Int {
    mask.reduce(0) { $0 + $1.nonzeroBitCount }
}

// MARK: - The cgroup CPU quota

/// The CPU quota of the process's cgroup in whole CPUs, rounded up, or nil when no quota applies.
///
/// cgroup v2 first: `cpu.max` in the process's cgroup (the `0::` line of `selfCgroupFile`) and in
/// each ancestor up to `mount`, the smallest quota of them, since a parent's quota caps its children.
/// Failing that, cgroup v1 (or a hybrid host, whose cpu controller is v1): `cpu.cfs_quota_us` over
/// `cpu.cfs_period_us`, the same way, in the cpu controller's hierarchy at `mount/cpu`. A file that
/// is missing is skipped; in a container that sees its own cgroup at `mount` but the host's path in
/// `/proc/self/cgroup`, that leaves the root's files, which are then the container's.
func cgroupQuotaCPUs(selfCgroupFile: String = "/proc/self/cgroup", mount: String = "/sys/fs/cgroup") -> Int? {
    let membership = readSmallFile(selfCgroupFile) ?? ""
    var smallest: Int? = nil
    func take(_ cpus: Int?) {
        if let cpus { smallest = Swift.min(smallest ?? cpus, cpus) }
    }
    let v2Path = cgroupV2Path(procSelfCgroup: membership) ?? "/"
    for directory in cgroupDirectories(path: v2Path, mount: mount) {
        take(readSmallFile(directory + "/cpu.max").flatMap { cgroupV2QuotaCPUs(cpuMax: $0) })
    }
    if smallest != nil { return smallest }
    let v1Path = cgroupV1Path(procSelfCgroup: membership, controller: "cpu") ?? "/"
    for directory in cgroupDirectories(path: v1Path, mount: mount + "/cpu") {
        guard let quota = readSmallFile(directory + "/cpu.cfs_quota_us"),
            let period = readSmallFile(directory + "/cpu.cfs_period_us")
        else { continue }
        take(cgroupV1QuotaCPUs(quota: quota, period: period))
    }
    return smallest
}

/// The CPUs a quota of `quota` microseconds per `period` allows, rounded up (1.5 CPUs' worth of
/// time still lets 2 threads run at once); nil unless both are positive (v1 writes −1 for no quota).
func quotaCPUs(quota: Int, period: Int) -> Int? {
    guard quota > 0, period > 0 else { return nil }
    return quota / period + (quota % period == 0 ? 0 : 1)
}

/// cgroup v2's `cpu.max`, `"<quota> <period>"` in microseconds or `"max <period>"` for no quota:
/// ``quotaCPUs(quota:period:)``, nil for `max` and for text of another form.
func cgroupV2QuotaCPUs(cpuMax: some StringProtocol) -> Int? {
    let fields = cpuMax.split(whereSeparator: \.isWhitespace)
    guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]) else { return nil }
    return quotaCPUs(quota: quota, period: period)
}

/// cgroup v1's `cpu.cfs_quota_us` (−1 for no quota) and `cpu.cfs_period_us`, one number each:
/// ``quotaCPUs(quota:period:)``, nil for no quota and for text of another form.
func cgroupV1QuotaCPUs(quota: some StringProtocol, period: some StringProtocol) -> Int? {
    let quotaFields = quota.split(whereSeparator: \.isWhitespace)
    let periodFields = period.split(whereSeparator: \.isWhitespace)
    guard quotaFields.count == 1, periodFields.count == 1,
        let quota = Int(quotaFields[0]), let period = Int(periodFields[0])
    else { return nil }
    return quotaCPUs(quota: quota, period: period)
}

/// The process's cgroup v2 path from the text of `/proc/self/cgroup`: the path of its `0::<path>`
/// line, nil if it has none (a v1-only host).
func cgroupV2Path(procSelfCgroup: some StringProtocol) -> String? {
    for line in procSelfCgroup.split(separator: "\n") {
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if fields.count == 3 && fields[0] == "0" && fields[1].isEmpty { return String(fields[2]) }
    }
    return nil
}

/// The process's cgroup v1 path in the hierarchy of `controller` from the text of
/// `/proc/self/cgroup`: the path of the `<id>:<controllers>:<path>` line whose comma-separated
/// controllers include it (`cpu` is often mounted together with `cpuacct`), nil if none does.
func cgroupV1Path(procSelfCgroup: some StringProtocol, controller: String) -> String? {
    for line in procSelfCgroup.split(separator: "\n") {
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if fields.count == 3 && fields[1].split(separator: ",").contains(where: { $0 == controller }) {
            return String(fields[2])
        }
    }
    return nil
}

/// The directories of the cgroup at `path` and of its ancestors under `mount`, the cgroup's first and
/// `mount` last. Only `mount` for a path with a `..` (a cgroup outside the process's cgroup namespace,
/// whose files would be outside `mount`).
func cgroupDirectories(path: String, mount: String) -> [String] {
    let components = path.split(separator: "/")
    if components.contains("..") { return [mount] }
    return (0...components.count).reversed().map { depth in
        ([mount[...]] + components[..<depth]).joined(separator: "/")
    }
}

/// The text of a small file such as a cgroup or `/proc` file (at most `limit` bytes are read), read
/// with plain POSIX calls (the core target does without Foundation); nil if it cannot be opened or read.
func readSmallFile(_ path: String, limit: Int = 64 * 1024) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var contents: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while contents.count < limit {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 {
            contents += chunk[..<Swift.min(count, limit - contents.count)]
        } else if count == 0 {
            break
        } else if errno != EINTR {
            return nil
        }
    }
    return String(decoding: contents, as: UTF8.self)
}
