"""The customer list: connected customers, their granted fields, search, filters, views."""
