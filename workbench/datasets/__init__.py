"""Loaders for real public data, each taking a path argument and failing with one clear sentence.

- ``foursquare``  Foursquare NYC check-ins in MAT-Sum's csv (top-level categories, day names, hours)
- ``tsmc``        raw TSMC2014 check-ins (original tab-separated files or GETNext's csv): UTC times, fine
                  venue categories, and the fine → top-level category table shipped beside it
- ``s3rec``       sequence benchmarks in the S3-Rec format (Beauty, Sports_and_Outdoors, … by name)
- ``movielens``   MovieLens ratings as time-ordered sequences
- ``jsonl_bench`` GSM8K-style jsonl reasoning benchmarks (field names and answer pattern as options)
- ``text``        reading text files with one clear sentence for binary or non-UTF-8 data

Nothing here downloads anything; tests that use ../shared/data are marked ``external``.
"""
