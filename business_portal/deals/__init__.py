"""Portal area: deals."""
