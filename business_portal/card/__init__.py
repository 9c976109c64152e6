"""Portal area: card."""
