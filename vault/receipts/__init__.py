"""Signed consent receipts: one per customer decision on an agreement (DESIGN: Receipt)."""
