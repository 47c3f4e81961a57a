"""datavask: customer master-data cleansing for Danish businesses.

The code lives in three top-level folders that install under this one name:
``datavask.flows`` (Prefect flows and the command line), ``datavask.cleansing`` (pure logic on
polars frames) and ``datavask.connectors`` (everything that crosses the process boundary);
``datavask.data`` carries the reference tables and the bundled sample.
"""

# Ctrl-C while the command line is still importing (typer, rich, importlib.metadata: the first
# few tenths of a second) printed a KeyboardInterrupt traceback from deep inside those imports,
# and exited as Python does, not with the command's one line and 130. Nothing has been written
# yet, so until flows.cli.main installs the run's own handler (flows/signals.py) a Ctrl-C ends
# the process at once. This is the first code of ours a start runs: the console script
# (``from datavask.flows.cli import main``) and ``python -m datavask`` import this package
# before anything else of datavask. Only then: a program that imports datavask as a library
# keeps its own Ctrl-C.
import os
import signal
import sys


def _started_as_command() -> bool:
    """Whether this process is the ``datavask`` command: its console script, or ``python -m
    datavask`` (whose ``sys.argv[0]`` is ``-m`` while the package is imported). Not a process
    multiprocessing spawned from it (a Dask worker): that one is handed the command's
    ``sys.argv``, but its own command line (``sys.orig_argv``) is another."""
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    if script in ("datavask", "datavask.exe"):
        return sys.argv[0] in sys.orig_argv
    if script != "-m" or "-m" not in sys.orig_argv:
        return False
    module = sys.orig_argv.index("-m") + 1
    return sys.orig_argv[module : module + 1] == ["datavask"]


def _interrupted_while_starting(signum: int, _frame: object) -> None:
    os.write(2, b"interrupted; no output was written\n")
    os._exit(128 + signum)


if _started_as_command():
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import time  # noqa: E402

# When datavask began to load: the summary's time is the user's whole wait, imports included. Not
# the process's start time: a shell that `exec`s datavask as its last command (`bash -c "pip
# install … && datavask cleanse …"`) hands over its own, older start time.
STARTED_AT = time.time()

from importlib.metadata import PackageNotFoundError, version  # noqa: E402

try:
    __version__ = version("datavask")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
