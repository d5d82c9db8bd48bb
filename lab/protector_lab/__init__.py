"""protector-lab: real OpenStack services from PyPI, two sites on loopback."""
