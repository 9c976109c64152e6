"""Wiring: configuration, database, app factory, CLI and i18n set-up."""
