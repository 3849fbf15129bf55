"""The model-driven roles: the manager's planner and reviewer, and the LLM worker backend.

Prompts are template files in ``prompts/``; each model call records their digest.
"""
