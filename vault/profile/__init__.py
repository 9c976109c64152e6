"""The customer's profile: encrypted field values and the history of every change."""
