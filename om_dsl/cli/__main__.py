"""`python -m om_dsl.cli` is the `om` command."""

from om_dsl.cli import main

main()
