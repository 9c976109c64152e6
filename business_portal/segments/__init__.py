"""RFM segments from the business's own purchase interactions."""
