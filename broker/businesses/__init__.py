"""Businesses, their staff and their OAuth clients."""
