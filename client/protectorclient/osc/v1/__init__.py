"""Commands of Protector API v1.

Spelled both ``openstack dr ...`` and ``openstack protector ...``.
"""
