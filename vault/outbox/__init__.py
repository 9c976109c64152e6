"""The transactional outbox: domain events a business must hear about, written with the change."""
