"""The access log: every business read and write, and account and key events, sealed into an
RFC 9162 Merkle tree with signed checkpoints."""
