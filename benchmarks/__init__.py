"""Benchmarks: synthetic workloads, timed against baselines in the same run.

``python -m benchmarks`` runs every ``bench_*.py`` module here (see ``benchmarks/README.md``).
Benchmarks are never timed tests: figures vary with the machine, so they are printed and
written to ``benchmarks/results/`` instead of asserted.
"""
