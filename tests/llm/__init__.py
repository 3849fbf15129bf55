"""Tests of the model-driven roles with scripted models (never a key, never the network)."""
