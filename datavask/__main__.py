"""``python -m datavask`` runs the datavask command line."""

from datavask.flows.cli import main

main()
