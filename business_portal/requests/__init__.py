"""Portal area: requests."""
