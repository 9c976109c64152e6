"""The compliance console: agreements under review, the provable log, reports."""
