"""Admin -> Disaster Recovery -> Sites."""
