"""Certified bases (issue 15): certification calls, bases with numbers and validity, 复核, registry."""
