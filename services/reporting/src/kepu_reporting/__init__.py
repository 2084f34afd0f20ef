"""Kepu Cloud reporting service: 月报·年度总结·活动 (SPEC section 5)."""
