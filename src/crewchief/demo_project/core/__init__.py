"""Shared domain code."""
