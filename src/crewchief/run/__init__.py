"""A run's life: intake, the plan and its checks, the orchestrator's loop, budgets, the run lock,
cancelling."""
