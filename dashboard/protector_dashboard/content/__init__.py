"""The panels of protector-dashboard, one package per panel."""
