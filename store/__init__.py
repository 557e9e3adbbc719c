"""Desk's SQLite store: schema, migrations, the hash-chained audit log and the key vault.

Knows rows, not strategies: it never imports `engine` or `desk`.
"""
