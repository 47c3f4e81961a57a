"""Package data: ``reference/`` tables with their provenance and the bundled ``sample/`` run.

Read through :func:`importlib.resources.files` (``files("datavask.data")``), so an installed wheel
finds them wherever it lives.
"""
