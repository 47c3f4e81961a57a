"""The examples in the package's docstrings are run: an example that no longer holds is a bug
in the documentation a reader trusts (``Text("da").number(...)`` once showed a rounding the
code never did)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

# The folders install under datavask.* from the top level (pyproject's package-dir), so each is
# walked from its own path.
_PACKAGES = ("datavask.flows", "datavask.cleansing", "datavask.connectors")


def _modules() -> list[str]:
    names = {"datavask", "datavask.settings", *_PACKAGES}
    for package in _PACKAGES:
        path = importlib.import_module(package).__path__
        names |= {m.name for m in pkgutil.walk_packages(path, prefix=f"{package}.")}
    return sorted(names)


def test_modules_are_found() -> None:
    assert {"datavask.cleansing.verdict", "datavask.connectors.report_text"} <= set(_modules())


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
