"""The resource API under /api/v1: what a business pulls, always through the gate."""
