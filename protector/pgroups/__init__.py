"""Protection groups across two sites: lifecycle, members, metadata sync.

The API handlers call these modules; they orchestrate the database
(``protector.db``), the sites' clouds (``protector.cloud``) and volume
types (``volume_types.py``), the consistency groups
(``protector.volume_groups``) and the synchronous push
of metadata to the peer site (``sync.py``), so that a modification is
applied on both sites or on neither (doc/architecture.md 3).
"""
