"""Portal area: tasks."""
