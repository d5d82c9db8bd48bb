"""python-protectorclient: the OpenStack client plugin for Protector."""
