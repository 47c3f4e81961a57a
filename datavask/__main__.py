"""``python -m datavask`` runs the datavask command line.

A Ctrl-C from here on is the command's (one line, exit 130): the package's ``__init__``, imported
before this module, set that up (see there).
"""

from datavask.flows.cli import main

main()
