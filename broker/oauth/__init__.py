"""The OAuth 2.0 authorization server (RFC 6749 with RFC 9700's rules), built on Authlib."""
