"""protectorclient: the OpenStack client plugin for Protector."""
