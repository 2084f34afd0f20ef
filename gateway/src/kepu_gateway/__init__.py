"""Kepu Cloud API gateway."""
