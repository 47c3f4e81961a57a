"""Benchmarks and the synthetic Danish customer-data generator they run on (:mod:`bench.generate`)."""
