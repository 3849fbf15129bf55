"""The orders package."""
