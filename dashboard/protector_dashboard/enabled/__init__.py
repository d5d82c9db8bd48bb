"""Horizon "enabled" files of protector-dashboard.

Copy (or link) the ``_6*.py`` files into Horizon's
``openstack_dashboard/local/enabled/`` (doc/dashboard.md); Horizon reads
them in file-name order, so each panel group comes before its panels.
"""
