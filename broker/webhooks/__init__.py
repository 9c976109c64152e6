"""Webhook delivery: the broker's worker turns the vault's outbox into signed HTTP calls."""
