"""``python -m crewchief`` is the ``crewchief`` command."""

from crewchief.cli import main

if __name__ == "__main__":  # worker processes re-import the main module: run nothing then
    main()
