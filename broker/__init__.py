"""The business side: businesses, OAuth clients, the authorization server and the gate."""
