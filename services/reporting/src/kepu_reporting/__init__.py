"""Kepu Cloud reporting service."""
