"""datavask: customer master-data cleansing for Danish businesses.

The code lives in three top-level folders that install under this one name:
``datavask.flows`` (Prefect flows and the command line), ``datavask.cleansing`` (pure logic on
polars frames) and ``datavask.connectors`` (everything that crosses the process boundary);
``datavask.data`` carries the reference tables and the bundled sample.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("datavask")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
