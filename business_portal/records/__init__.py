"""The business's own records about its customers: deals, tasks, notes and what they hang on."""
