"""Loaders for real public data, each taking a path argument and failing with one clear sentence.

- ``foursquare``  Foursquare NYC check-ins (method 1: need ≈ top-level category, service ≈ venue)
- ``amazon_beauty`` / ``movielens``  sequences for generative retrieval (method 2)
- ``jsonl_bench`` GSM8K-style jsonl reasoning benchmarks (method 3)

Nothing here downloads anything; tests that use ../shared/data are marked ``external``.
"""
