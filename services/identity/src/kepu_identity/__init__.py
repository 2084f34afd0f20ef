"""Kepu Cloud identity service."""
