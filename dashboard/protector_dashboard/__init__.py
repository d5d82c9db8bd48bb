"""protector-dashboard: the Horizon plugin of Protector (doc/dashboard.md).

Project -> Disaster Recovery holds the protection groups and DR operations
panels, Admin -> Disaster Recovery the sites panel. Every call to
protector-api goes through :mod:`protector_dashboard.api.protector`, which
wraps protectorclient.
"""
