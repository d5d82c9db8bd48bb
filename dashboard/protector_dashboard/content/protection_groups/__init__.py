"""Project -> Disaster Recovery -> Protection Groups."""
