"""Solvers: importing this package registers every algorithm by name."""
