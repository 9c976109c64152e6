"""The access log: every business read and write, and account and key events, hash-chained."""
