"""The staff UI: a CRM over granted data and the compliance console."""
