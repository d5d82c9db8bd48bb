"""Protector: disaster-recovery orchestration for pairs of OpenStack clouds."""
