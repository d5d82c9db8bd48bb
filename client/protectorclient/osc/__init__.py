"""OpenStackClient (OSC) integration of protectorclient."""
