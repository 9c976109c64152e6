"""Envelope encryption: key-encryption keys, per-customer data keys, rotation."""
