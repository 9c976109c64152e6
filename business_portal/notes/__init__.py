"""The business's notes and tags about a customer."""
