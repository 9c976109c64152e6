"""Invites: a link or QR code at the counter that opens the consent screen."""
