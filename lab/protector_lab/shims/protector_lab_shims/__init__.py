"""Plugins that let real Cinder and Neutron run without storage or agents.

Installed by protector-lab into the service virtualenvs only.
"""
