"""Unit tests of protector-dashboard, on Horizon's test helpers."""
