"""Kepu Cloud assessment service."""
