"""DR actions on protection groups (the API side of operations)."""
