"""The notifications package."""
