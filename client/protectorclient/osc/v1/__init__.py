"""Commands of the Protector API v1 (`openstack dr ...`, `openstack protector ...`)."""
