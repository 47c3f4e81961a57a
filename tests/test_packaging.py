"""Building the package: no setuptools banners, the data inside the wheel, and ``--version``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from datavask import __version__
from tests.conftest import REPO


def test_wheel_builds_without_setuptools_banners(tmp_path: Path) -> None:
    """Before: "Package 'datavask.data.reference' is absent from the packages configuration"
    banners (and, earlier, the licence-table deprecation) framed in asterisks on every install."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
         "--no-cache-dir", "-w", str(tmp_path), "-v"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    banners = [line for line in output.splitlines() if "****" in line or "Deprecat" in line]
    assert banners == [], "\n".join(banners)
    assert "BuildBackendWarning" not in output and "licen" not in output.lower()
    (wheel,) = tmp_path.glob("datavask-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "datavask/data/reference/dk_postal_codes.csv" in names
    assert "datavask/data/sample/customers.csv" in names
    assert "datavask/settings.py" in names


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "--version"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == f"datavask {__version__}"


# Imports that name no installed distribution: the standard library, and the package itself.
_OWN = {"datavask", "flows", "cleansing", "connectors", "data"}


def _runtime_closure(root: str) -> set[str]:
    """The distributions ``pip install datavask`` brings: its requirements without extras, and
    theirs, as installed here (a requirement that is absent here is not followed)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def test_every_import_of_the_package_is_a_declared_dependency() -> None:
    """scripts/wheel_smoke.sh installs the wheel beside the test environment's libraries (the
    disk of a CI machine need not hold two environments); this keeps what a fresh install would
    catch: a module the package imports that ``pip install datavask`` would not bring. An import
    guarded by ``except ModuleNotFoundError`` (an optional extra with its own message) is allowed,
    and so is one only a type checker reads (``if TYPE_CHECKING:``)."""
    import ast
    from importlib import metadata

    providers = metadata.packages_distributions()
    closure = _runtime_closure("datavask")
    missing: dict[str, set[str]] = {}
    for folder in ("datavask", "flows", "cleansing", "connectors", "data"):
        for path in (REPO / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            guarded = {
                id(node)
                for handler_try in ast.walk(tree)
                if isinstance(handler_try, ast.Try)
                and any(
                    isinstance(h.type, ast.Name)
                    and h.type.id in {"ModuleNotFoundError", "ImportError"}
                    for h in handler_try.handlers
                )
                for statement in handler_try.body
                for node in ast.walk(statement)
            }
            # what only a type checker reads (``if TYPE_CHECKING:``) is never imported at run time
            guarded |= {
                id(node)
                for branch in ast.walk(tree)
                if isinstance(branch, ast.If)
                and isinstance(branch.test, ast.Name)
                and branch.test.id == "TYPE_CHECKING"
                for statement in branch.body
                for node in ast.walk(statement)
            }
            for node in ast.walk(tree):
                if id(node) in guarded:
                    continue
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in _OWN or top in sys.stdlib_module_names or top == "__future__":
                        continue
                    dists = {d.lower().replace("_", "-") for d in providers.get(top, [])}
                    if not dists & closure:
                        missing.setdefault(top, set()).add(str(path.relative_to(REPO)))
    assert missing == {}, f"imported but not brought by `pip install datavask`: {missing}"
