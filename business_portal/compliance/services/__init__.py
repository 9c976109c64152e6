"""The compliance console's use cases: plain functions over a unit of work, no Flask."""
