"""The customer's side: accounts, keys, encrypted fields, interactions, export and erasure."""
