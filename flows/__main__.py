"""``python -m flows`` runs the datavask command line."""

from flows.cli import main

main()
