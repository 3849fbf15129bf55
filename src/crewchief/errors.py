"""The error tree. The CLI maps these to exit codes; library code raises, never prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crewchief.records import ModelWork


class CrewchiefError(Exception):
    """Base of every error crewchief raises on purpose."""

    exit_code = 1


class UserError(CrewchiefError):
    """Bad input or bad configuration: the user can fix it. Exit code 2; nothing was changed."""

    exit_code = 2


class RunError(CrewchiefError):
    """A run could not finish (git failed, a worker crashed, the suite is red). Exit code 1."""

    exit_code = 1


class PlanningFailed(RunError):
    """The manager gave no plan that passes the checks (no usable answer, or still invalid
    after its corrections). ``work`` is what its calls cost all the same
    (``records.ModelWork``), for the ledger."""

    def __init__(self, message: str, work: ModelWork) -> None:
        super().__init__(message)
        self.work = work


class ModelUnavailable(RunError):
    """A model call failed after the SDK's retries (or gave no usable answer): no verdict was
    given, so nothing may be judged on it; the run pauses and ``resume`` asks again. ``work``
    is what the failed calls cost all the same (``records.ModelWork``), for the ledger."""

    def __init__(self, message: str, work: ModelWork | None = None) -> None:
        super().__init__(message)
        self.work = work


class IllegalTransition(RunError):
    """A lifecycle was asked to move along an edge its transition table does not have."""


class GitError(RunError):
    """A git command failed in a way crewchief cannot handle."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        self.git_args = args
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()}")
