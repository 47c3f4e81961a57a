"""Benchmarks and the synthetic Danish customer-data generator they use (:mod:`bench.generate`)."""
