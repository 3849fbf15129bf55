"""Worker backends: the seam between a task and whatever edits the code."""
