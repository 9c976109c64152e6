"""The customer's relationship record: interactions logged by them or by a business."""
