"""The billing package."""
