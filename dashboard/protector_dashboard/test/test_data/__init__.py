"""Test data of the dashboard's unit tests (doc/api-ref.md shapes)."""
