"""Deterministic recipes: planner + worker pairs for mechanical changes, no model involved.

Each recipe module exports ``RECIPE`` (a ``crewchief.backends.base.Recipe``) and registers it
under the ``crewchief.recipes`` entry-point group, like any plugin would:

- ``codemod``: an ast-grep pattern → rewrite in any language ast-grep supports;
- ``command``: a shell command run per module with ``{files}`` set to the module's files.

Shared pieces: ``args`` (typed recipe arguments), ``files`` (tracked files at HEAD and path
selectors), ``split`` (files → one task per file, directory or package), ``languages``.
"""
