"""Every module's ``__all__`` tells the truth: each name exists, once, and is defined there.

A name in ``__all__`` that is imported from elsewhere is allowed only in a package's
``__init__`` (re-exports are what a package's ``__init__`` is for) or when the object says
it belongs to this package.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MODULES = sorted(
    ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
    for p in (SRC / "chia").rglob("*.py")
    if p.name != "__main__.py"
)


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_existing_unique_names(name):
    module = importlib.import_module(name)
    public = getattr(module, "__all__", None)
    if public is None:
        return
    assert len(public) == len(set(public)), f"{name}.__all__ repeats a name"
    missing = [member for member in public if not hasattr(module, member)]
    assert missing == [], f"{name}.__all__ names what it does not define"
    if name.endswith("__init__") or Path(module.__file__ or "").name == "__init__.py":
        return
    foreign = []
    for member in public:
        obj = getattr(module, member)
        home = getattr(obj, "__module__", None)
        defined = inspect.isclass(obj) or inspect.isfunction(obj)
        if defined and home and not home.startswith(name.rsplit(".", 1)[0]):
            foreign.append(f"{member} (from {home})")
    assert foreign == [], f"{name}.__all__ re-exports from another package"
