// cross-platform-bits: NUMERICS.md's "Determinism" across machines. The `.vector` kernel must give
// the same bits on AVX-512F, AVX2+FMA and arm64's AdvSIMD; this computes a fixed list of seeded
// batches (Cases.swift) through the public API, one line per case — its name and the hashes of
// every output's bits — and either writes the lines or checks them against a file written
// elsewhere (Scripts/test-arm64-swift.sh: written by the x86-64 build, checked on arm64).
//
//   cross-platform-bits write FILE     # the golden file
//   cross-platform-bits check FILE     # recompute; list each mismatching case, exit 1 if any
//   cross-platform-bits list           # the case names
//
// The ISA is the process's (`XENT_ISA`, else the CPU's best); an `XENT_ISA` that did not take
// effect is an error (exit 2), so a check never silently runs on another ISA.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Xent

func fail(_ message: String) -> Never {
    var text = "cross-platform-bits: \(message)\n"
    _ = text.withUTF8 { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// The lines of `path` that are not comments (`#`) or empty.
func readLines(_ path: String) -> [String] {
    guard let file = fopen(path, "r") else { fail("cannot read \(path)") }
    defer { fclose(file) }
    var lines: [String] = []
    var buffer: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    while getline(&buffer, &capacity, file) > 0 {
        var line = String(cString: buffer!)
        while line.last == "\n" || line.last == "\r" { line.removeLast() }
        if !line.isEmpty && !line.hasPrefix("#") { lines.append(line) }
    }
    free(buffer)
    return lines
}

func line(_ c: Case, _ r: Case.Result) -> String {
    ([c.name] + r.fields.map { "\($0.0)=\($0.1)" }).joined(separator: " ")
}

func compute(_ c: Case) -> Case.Result {
    do {
        return try c.run()
    } catch {
        fail("case \(c.name) was refused: \(error)")
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, ["write", "check", "list"].contains(arguments[1]),
    arguments[1] == "list" || arguments.count == 3
else {
    fail("usage: cross-platform-bits write FILE | check FILE | list")
}
let isa = InstructionSet.active
if let requested = getenv("XENT_ISA").map({ String(cString: $0) }), !requested.isEmpty,
    requested != isa.rawValue
{
    fail("XENT_ISA=\(requested) did not take effect (the process runs \(isa))")
}
#if arch(x86_64)
let machine = "x86_64"
#elseif arch(arm64)
let machine = "arm64"
#else
let machine = "other"
#endif
let cases = allCases()
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
let start = now()
func seconds() -> String { "\(Double(Int((now() - start) * 10)) / 10) s" }

switch arguments[1] {
case "list":
    for c in cases { print(c.name) }

case "write":
    guard let file = fopen(arguments[2], "w") else { fail("cannot write \(arguments[2])") }
    fputs("# cross-platform-bits: \(cases.count) cases, the .vector kernel on \(isa) (\(machine))\n", file)
    for c in cases { fputs(line(c, compute(c)) + "\n", file) }
    fclose(file)
    print("wrote \(cases.count) cases on \(isa) (\(machine)) in \(seconds()) to \(arguments[2])")

default:  // check
    let golden = readLines(arguments[2])
    guard golden.count == cases.count else {
        fail("\(arguments[2]) holds \(golden.count) cases, this build makes \(cases.count): not the same list")
    }
    var mismatches = 0
    for (c, expected) in zip(cases, golden) {
        let name = String(expected.prefix { $0 != " " })
        guard name == c.name else { fail("case \(c.name) is \(name) in \(arguments[2]): not the same list") }
        let result = compute(c)
        let actual = line(c, result)
        if actual != expected {
            mismatches += 1
            let expectedFields = expected.split(separator: " ").dropFirst()
            let differing = zip(result.fields, expectedFields).filter { "\($0.0)=\($0.1)" != $1 }
            print("MISMATCH \(c.name): " + differing.map { field, golden in
                "\(field.0) \(golden.split(separator: "=").last ?? "?") → \(field.1)"
            }.joined(separator: ", "))
        }
    }
    if mismatches == 0 {
        print("\(cases.count) cases, all bits equal (\(isa) on \(machine) against \(arguments[2]), \(seconds()))")
    } else {
        print("\(mismatches) of \(cases.count) cases differ (\(isa) on \(machine) against \(arguments[2]))")
        exit(1)
    }
}
