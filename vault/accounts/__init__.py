"""Customer accounts: sign-up, log-in by blind-indexed e-mail, Argon2id passwords."""
