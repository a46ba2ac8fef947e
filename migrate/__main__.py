"""`python -m migrate` runs the CLI."""

from migrate.cli import main

if __name__ == "__main__":
    main()
