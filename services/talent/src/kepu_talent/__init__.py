"""Kepu Cloud talent service."""
