"""Utilities: converting between the wide and long layouts."""
