"""One module per command-line command; each exposes `run(args) -> int`.

They are imported only when their command runs, so `desk --help` stays fast.
"""
