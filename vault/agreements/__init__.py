"""The customer's copy of every data-sharing agreement, its history and its lifecycle."""
