"""Staff of a business in the portal: who is signed in, with which role, and what they may do."""
