"""Portal area: settings."""
