"""What peers.py and linear_peers.py share: the suite's repetition policy and progress messages."""
import sys
import time


def log(message):
    print(message, file=sys.stderr, flush=True)


def timings(fn, warmup, min_reps, max_reps, min_time):
    """The suite's policy: warm-up runs, then at least min_reps, more until min_time or max_reps."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter_ns()
    while len(times) < min_reps or (len(times) < max_reps and time.perf_counter_ns() - start < min_time * 1e9):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return times
