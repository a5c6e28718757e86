"""`make bench`: the benchmark suite of CONTRACT section 8 (`python -m benchmarks [--quick]`)."""
