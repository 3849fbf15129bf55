"""``python -m crewchief`` is the ``crewchief`` command."""

from crewchief.cli import main

main()
