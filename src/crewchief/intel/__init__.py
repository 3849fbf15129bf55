"""Code intelligence: a tree-sitter symbol index and what crewchief builds on it.

Import from the submodules (kept apart so that, say, reading a summary does not load scipy):

- ``index.SymbolIndex(repo)``: ``update()`` → ``UpdateStats``; ``snapshot()``,
  ``tree_snapshot(commit)`` → ``snapshot.Snapshot`` (definitions, references, lookups).
- ``rank.rank(snapshot, focus)`` → ``Ranking``; ``repomap.repo_map(snapshot, focus=, tokens=)``
  → ``RepoMap`` (the ranked map text within a token budget).
- ``packer.pack_context(snapshot, owned_paths, symbols, budget=)`` → ``PackedContext``.
- ``drift.detect_drift(index, base, patch=|head=, tasks=)`` → ``DriftReport``.
- ``summary.read_project_summary(repo)``, ``summary.write_architecture_skeleton(repo)``.
- ``commands.map_command``: the ``crewchief map`` command (the only module that prints).
"""
