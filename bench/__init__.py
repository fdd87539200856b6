"""Benchmarks, run by hand against a real server: see bench/graphql_nested.py."""
