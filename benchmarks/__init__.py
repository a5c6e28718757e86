"""`make bench`: the benchmark suite of docs/benchmarks.md (`python -m benchmarks [--quick]`)."""
