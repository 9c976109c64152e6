"""Portal area: dashboard."""
