"""The executor a configuration asks for: the local thread pool, or Ray. Its own module so
that the executors' seam (``executor``) and the Ray executor built on it import each other in
one direction only."""

from __future__ import annotations

from crewchief.attempts.executor import Executor, LocalExecutor
from crewchief.config import Config
from crewchief.errors import UserError


def make_executor(cfg: Config) -> Executor:
    """The executor ``cfg`` asks for. Ray is imported only here, and only for ``executor =
    "ray"``: a UserError says how to install it when it is missing."""
    if cfg.executor == "local":
        return LocalExecutor(cfg.workers)
    try:
        from crewchief.attempts.ray_executor import RayExecutor
    except ModuleNotFoundError as e:
        if e.name != "ray" and not (e.name or "").startswith("ray."):
            raise
        raise UserError('executor = "ray" needs Ray: pip install "crewchief[distributed]"') from e
    return RayExecutor(cfg.workers, cfg.ray_address)
