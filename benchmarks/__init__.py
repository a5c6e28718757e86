"""`make bench`: the benchmark suite of `../shared/design/CONTRACT.md` section 8 (`python -m benchmarks [--quick]`)."""
