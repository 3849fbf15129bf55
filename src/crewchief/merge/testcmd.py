"""How a project runs its own tests, in its own environment: what ``init`` writes as
``test_command``. A bare ``python`` may import an installed copy of the package instead of the
checkout (the sensitivity probe catches that), so the project's virtualenv or environment
manager comes first."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

_PYTEST = "-m pytest -q"
#: npm's placeholder test script: not a suite.
_NPM_PLACEHOLDER = "no test specified"


def python_test_command(repo: Path) -> str:
    """The project's virtualenv (.venv, venv), else its environment manager (uv, poetry, pdm,
    hatch, tox, nox), else plain ``python -m pytest``."""
    for venv in (".venv", "venv"):
        if (repo / venv / "bin" / "python").exists():
            return f"{venv}/bin/python {_PYTEST}"
    tool = _pyproject(repo).get("tool", {})
    if (repo / "uv.lock").exists() or "uv" in tool:
        return "uv run pytest -q"
    if (repo / "poetry.lock").exists() or "poetry" in tool:
        return "poetry run pytest -q"
    if (repo / "pdm.lock").exists() or "pdm" in tool:
        return "pdm run pytest -q"
    if (repo / "hatch.toml").exists() or "hatch" in tool:
        return "hatch test"
    if (repo / "tox.ini").exists() or "tox" in tool:
        return "tox"
    if (repo / "noxfile.py").exists():
        return "nox"
    return f"python {_PYTEST}"


def node_test_command(repo: Path) -> str | None:
    """``<manager> test`` when package.json has a real test script, with the package manager
    its lock file names; None without one."""
    try:
        scripts = json.loads((repo / "package.json").read_text()).get("scripts") or {}
    except (OSError, ValueError, AttributeError):
        return None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    if not isinstance(test, str) or not test.strip() or _NPM_PLACEHOLDER in test:
        return None
    for lock, manager in (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("bun.lockb", "bun")):
        if (repo / lock).exists():
            return f"{manager} test" if manager != "bun" else "bun run test"
    return "npm test"


def _pyproject(repo: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((repo / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}
