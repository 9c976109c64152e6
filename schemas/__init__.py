"""Pydantic models shared by every Emanet package: field catalogue, terms, API bodies."""
