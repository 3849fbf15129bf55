"""The gate every patch passes: its policy from the patch's bytes, secrets and deceptive names,
exact apply, fast checks and the reviewers."""
