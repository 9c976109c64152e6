"""Alembic migrations of Emanet's schema."""
