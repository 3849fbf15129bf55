"""One typed configuration: defaults < crewchief.toml < environment (CREWCHIEF_*) < CLI flags.

Each field is documented once, here; ``render_toml`` writes those docs into the file ``init``
creates, so the file and the code cannot disagree.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from crewchief.errors import UserError
from crewchief.records import Risk

if TYPE_CHECKING:  # the sandbox (and its process machinery) loads when a sandbox is made
    from crewchief.sandbox.runner import SandboxConfig

SandboxMode = Literal["auto", "bwrap", "off"]

CONFIG_FILE = "crewchief.toml"


class Config(BaseModel):
    """Settings of crewchief for one repository."""

    # defer_build: the validator is built on first use, not when a command merely imports this.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    language: str | None = Field(
        default=None, description="Main language of the repository (detected by init)."
    )
    test_command: str | None = Field(
        default=None,
        description="Full test suite, run on the integration result before anything merges.",
    )
    fast_checks: list[str] = Field(
        default_factory=list,
        description="Quick commands run in each attempt's worktree; {files} = the changed files.",
    )
    workers: int = Field(default=4, ge=1, le=64, description="Attempts run at once.")
    task_timeout_s: float = Field(default=600.0, gt=0, description="Wall clock per attempt.")
    check_timeout_s: float = Field(default=300.0, gt=0, description="Wall clock per fast check.")
    suite_timeout_s: float = Field(default=1800.0, gt=0, description="Wall clock per suite run.")
    suite_probe: bool = Field(
        default=True,
        description="Prove the suite with a sensitivity probe (the suite on a deliberately broken "
        "copy of the base) before it may gate; false only for a suite known to test the checkout "
        "(the base check still runs).",
    )
    merge_queue: bool = Field(
        default=True,
        description="Integrate and suite-test verified work while workers run (false: at the end).",
    )
    queue_suites: int = Field(
        default=1,
        ge=1,
        le=8,
        description="Suite batches the merge queue tests at once. Above 1, a batch is tested on "
        "the tip of the one before it before that one is known green; a red one voids the "
        "batches after it, which are rebuilt and tested again.",
    )
    target_branch: str | None = Field(
        default=None, description="Branch a run merges into; default: the branch checked out."
    )
    protected_paths: list[str] = Field(
        default_factory=lambda: [".github/**", "**/auth/**"],
        description="Globs that always need an explicit human approval at the gate.",
    )
    max_attempts: int = Field(
        default=2, ge=1, le=10, description="Attempts per task (revisions and conflict re-runs)."
    )
    max_tasks: int = Field(default=200, ge=1, description="Largest plan a run accepts.")
    allow_mode_changes: bool = Field(
        default=False, description="Let patches change file modes (e.g. set the exec bit)."
    )
    allow_binary: bool = Field(default=False, description="Let patches add or change binaries.")
    max_patch_bytes: int = Field(default=1024 * 1024, gt=0, description="Largest patch accepted.")
    manager_model: str | None = Field(
        default=None,
        description="Planner model: anthropic:<m>, openai:<m> or openai-compatible:<m>@<url>.",
    )
    worker_model: str | None = Field(default=None, description="Model of the LLM worker agents.")
    reviewer_model: str | None = Field(
        default=None, description="Model that reviews patches; default: the manager model."
    )
    prices: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="USD per 1M tokens by model, e.g. {m = {input = 3, output = 15}}.",
    )
    worker_max_steps: int = Field(default=30, ge=1, description="Model requests per attempt.")
    worker_token_budget: int = Field(
        default=200_000, ge=1000, description="Tokens (in + out) one attempt may use."
    )
    task_budget_usd: float | None = Field(
        default=None, gt=0, description="Spend limit per task; the run pauses when it is hit."
    )
    run_budget_usd: float | None = Field(
        default=None, gt=0, description="Spend limit per run; the run pauses when it is hit."
    )
    worker_risk_levels: list[Risk] = Field(
        default_factory=lambda: list[Risk](["low", "medium"]),
        description="Risk levels workers may take; other tasks are left for people.",
    )
    worker_backend: str = Field(
        default="llm:worker",
        description="Backend of model-planned tasks: llm:worker, or agent:<name> for a CLI.",
    )
    agents: dict[str, dict[str, JsonValue]] = Field(
        default_factory=dict,
        description="External coding CLIs as workers: [agents.NAME] tables (command, …).",
    )
    reviewer: Literal["model", "external"] = Field(
        default="model",
        description="Who reviews patches: model (the manager, or the rules without one), or "
        "external (a host agent through crewchief mcp; the run waits for its verdicts).",
    )
    mcp_may_merge: bool = Field(
        default=False,
        description="Let an MCP host approve and merge what --yes could (never protected "
        "paths or high-risk tasks); otherwise it is told what a person must do.",
    )
    sparse_worktrees: bool = Field(
        default=False,
        description="Check out only a task's owned and context paths (fast checks see only those).",
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description="Where workers run: local, or ray (a Ray cluster; crewchief[distributed]).",
    )
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster to join: auto or ray://host:port; unset = start a local one.",
    )
    sandbox: SandboxMode = Field(
        default="auto",
        description="Sandbox of fast checks, the LLM worker's checks and the suite: auto "
        "(bubblewrap, refused without it) or off (trusted code only; said in the run's log).",
    )
    recipe_sandbox: dict[str, SandboxMode] = Field(
        default_factory=dict,
        description='Sandbox of a recipe\'s commands by recipe name, e.g. {command = "off"}.',
    )
    bwrap: str = Field(default="bwrap", description="The bubblewrap program (a name or a path).")
    sandbox_pass_env: list[str] = Field(
        default_factory=list,
        description="Variables passed by name into the sandbox of checks, suite and recipes.",
    )

    def check_sandbox(self) -> SandboxConfig:
        """The sandbox of fast checks, the LLM worker's check runs and the full suite."""
        return self._sandbox(self.sandbox)

    def recipe_sandbox_for(self, recipe: str) -> SandboxConfig:
        """The sandbox of recipe ``recipe``'s commands."""
        return self._sandbox(self.recipe_sandbox.get(recipe, "auto"))

    def _sandbox(self, mode: SandboxMode) -> SandboxConfig:
        from crewchief.sandbox.runner import SandboxConfig

        return SandboxConfig(mode=mode, bwrap=self.bwrap, pass_env=tuple(self.sandbox_pass_env))

    def unsandboxed(self) -> list[str]:
        """What this configuration runs without a sandbox (the escape hatch), by name."""
        off = ["checks and suite"] if self.sandbox == "off" else []
        off += [f"recipe:{n}" for n, mode in sorted(self.recipe_sandbox.items()) if mode == "off"]
        for name, table in sorted(self.agents.items()):
            box = table.get("sandbox")
            if isinstance(box, dict) and box.get("mode") in ("off", "none"):
                off.append(f"agent:{name}")
        return off


_ENV_PREFIX = "CREWCHIEF_"


def load(repo: Path, overrides: dict[str, Any] | None = None) -> Config:
    """The configuration for ``repo``: defaults, then the file, then the environment, then flags.

    ``overrides`` holds CLI flags; None values mean "not given".
    """
    data: dict[str, Any] = {}
    path = repo / CONFIG_FILE
    if path.exists():
        try:
            data.update(tomllib.loads(path.read_text()))
        except tomllib.TOMLDecodeError as e:
            raise UserError(f"{path}: not valid TOML: {e}") from e
    for name in Config.model_fields:
        env = os.environ.get(_ENV_PREFIX + name.upper())
        if env is not None:
            data[name] = _parse_env(name, env)
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"bad configuration: {where}: {first['msg']}") from e


def _parse_env(name: str, value: str) -> Any:
    annotation = str(Config.model_fields[name].annotation)
    if "list" in annotation:
        return [v for v in value.split(os.pathsep) if v]
    return value


def detect(repo: Path) -> Config:
    """Guess language, full test command (in the project's own environment: see ``testcmd``)
    and fast checks from the files in ``repo``."""
    from crewchief.merge.testcmd import node_test_command, python_test_command

    files = {p.name for p in repo.iterdir()}
    if files & {"pyproject.toml", "setup.py", "setup.cfg"} or any(repo.glob("*.py")):
        checks = ["python -m compileall -q {files}"]
        if shutil.which("ruff"):
            checks.append("ruff check --select E9,F63,F7,F82 {files}")
        tests = python_test_command(repo) if _has_python_tests(repo) else None
        return Config(language="python", test_command=tests, fast_checks=checks)
    if "package.json" in files:
        return Config(language="javascript", test_command=node_test_command(repo), fast_checks=[])
    if "go.mod" in files:
        return Config(language="go", test_command="go test ./...", fast_checks=["go vet ./..."])
    if "Cargo.toml" in files:
        return Config(language="rust", test_command="cargo test", fast_checks=["cargo check"])
    return Config()


def _has_python_tests(repo: Path) -> bool:
    if (repo / "tests").is_dir() or (repo / "test").is_dir() or (repo / "pytest.ini").exists():
        return True
    return any(repo.rglob("test_*.py"))


def render_toml(cfg: Config) -> str:
    """``cfg`` as a commented crewchief.toml; unset fields appear commented out with the default."""
    lines = [
        "# crewchief configuration. Precedence: defaults < this file < CREWCHIEF_* < flags.",
        "",
    ]
    for name, info in Config.model_fields.items():
        lines.append(f"# {info.description}")
        value = getattr(cfg, name)
        if value is None:
            lines.append(f"# {name} = ")
        else:
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else _toml_value(key)
