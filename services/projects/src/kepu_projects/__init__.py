"""Kepu Cloud projects service."""
