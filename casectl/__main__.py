"""`python -m casectl` runs the command line."""

from casectl.cli.app import main

main()
