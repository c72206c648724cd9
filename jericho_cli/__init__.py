"""Jericho: end-to-end audio reasoning toolkit (symbols -> sound -> model -> sound -> scorer)."""

__version__ = "0.1.0"
