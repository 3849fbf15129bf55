"""The accounts package."""
