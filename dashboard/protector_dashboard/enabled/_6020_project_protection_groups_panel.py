"""Project -> Disaster Recovery -> Protection Groups."""
PANEL = "protection_groups"
PANEL_DASHBOARD = "project"
PANEL_GROUP = "disaster_recovery"
ADD_PANEL = ("protector_dashboard.content.protection_groups.panel."
             "ProtectionGroups")
