#!/usr/bin/env python3
"""Counts the guest instructions a program executed between two marker functions, from a qemu-user
log written with `-d in_asm,exec,nochain -D LOG` (Scripts/test-arm64-swift.sh; the program is
Tests/CrossPlatformBits' instruction-probe).

    count-guest-instructions.py [--by-symbol] LOG [BEGIN [END]]

`in_asm` lists every translation block once, when qemu translates it (its guest instructions, one
per line, after an `IN:` line); `exec` with `nochain` logs every execution of a block (`Trace`:
the block's guest address in the brackets' second field, then the symbol it lies in, if any). The
count is the sum of the executed blocks' instruction counts from the first execution of a block in
BEGIN (default xent_probe_begin) up to, not including, the first in END (default xent_probe_end).
Prints the count (with --by-symbol, then the 20 symbols that executed the most of it, blocks in
shared libraries, which qemu does not name, under "?"); exits 1 when a marker is missing or a block
executed was never listed, or qemu could not list one."""
import re
import sys

ADDRESS = re.compile(r"^0x([0-9a-f]+):\s")
STOPPED = re.compile(r"before 0x[0-9a-f]+ \[([0-9a-f]+)\]")
TRACE = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/[0-9a-f]+\] ?(\S*)")


def main():
    arguments = sys.argv[1:]
    by_symbol = bool(arguments) and arguments[0] == "--by-symbol"
    if by_symbol:
        arguments = arguments[1:]
    if not 1 <= len(arguments) <= 3:
        sys.exit(__doc__)
    begin = arguments[1] if len(arguments) > 1 else "xent_probe_begin"
    end = arguments[2] if len(arguments) > 2 else "xent_probe_end"
    symbols, last_symbol = {}, "?"
    sizes = {}  # a block's guest address -> its instruction count (the latest translation)
    block, count = None, 0
    counting, done, total = False, False, 0
    with open(arguments[0], errors="replace") as log:
        for line in log:
            if line.startswith("Disassembler disagrees"):  # the listing is cut short: no count
                sys.exit("count-guest-instructions: qemu could not list a block (" + line.strip() + ")")
            if line.startswith("Stopped execution of TB chain") and counting:
                match = STOPPED.search(line)  # logged as executed, but did not run
                if match and int(match.group(1), 16) in sizes:
                    total -= sizes[int(match.group(1), 16)]
                    symbols[last_symbol] -= sizes[int(match.group(1), 16)]
                continue
            if line.startswith("IN:"):
                if block is not None:
                    sizes[block] = count
                block, count = None, 0
                continue
            match = ADDRESS.match(line)
            if match:
                if block is None:
                    block = int(match.group(1), 16)
                count += 1
                continue
            match = TRACE.match(line)
            if not match:
                continue
            if block is not None:  # the block just listed ends where its first execution starts
                sizes[block] = count
                block, count = None, 0
            symbol = match.group(2)
            if not counting:
                counting = symbol == begin
            elif symbol == end:
                done = True
                for _ in log:  # drained, so that a writer on a pipe does not die of SIGPIPE
                    pass
                break
            if counting:
                pc = int(match.group(1), 16)
                if pc not in sizes:
                    sys.exit(f"count-guest-instructions: block {pc:#x} executed but never listed")
                total += sizes[pc]
                last_symbol = symbol or "?"
                symbols[last_symbol] = symbols.get(last_symbol, 0) + sizes[pc]
    if not counting:
        sys.exit(f"count-guest-instructions: {begin} never executed")
    if not done:
        sys.exit(f"count-guest-instructions: {end} never executed after {begin}")
    print(total)
    if by_symbol:
        for symbol, count in sorted(symbols.items(), key=lambda item: -item[1])[:20]:
            print(f"{count:12d} {100 * count / total:5.1f}% {symbol}")


main()
