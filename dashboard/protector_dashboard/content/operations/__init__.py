"""Project -> Disaster Recovery -> DR Operations."""
