"""datavask: customer master-data cleansing for Danish businesses.

The code lives in three top-level folders that install under this one name:
``datavask.flows`` (Prefect flows and the command line), ``datavask.cleansing`` (pure logic on
polars frames) and ``datavask.connectors`` (everything that crosses the process boundary);
``datavask.data`` carries the reference tables and the bundled sample.
"""

import time

# When datavask began to load: the summary's time is the user's whole wait, imports included. Not
# the process's start time: a shell that `exec`s datavask as its last command (`bash -c "pip
# install … && datavask cleanse …"`) hands over its own, older start time.
STARTED_AT = time.time()

from importlib.metadata import PackageNotFoundError, version  # noqa: E402

try:
    __version__ = version("datavask")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
