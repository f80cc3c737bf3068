"""The custom-resource contract, as the constructs read it: lambda/personalize_handlers/contract.py.

That file is the one place the contract is written, and it ships in the Lambda asset. lambda/ is
the asset's root, not a package of this app (`lambda` is a Python keyword), and putting it on
sys.path would make the whole handler package importable here. The contract is one self-contained,
standard-library file, so it is loaded by its path under its own module name,
`personalize_handlers.contract`: a process holds one module object, whether this module or the
handler package (tests put lambda/ on sys.path) loaded it first.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from pipeline.naming import REPO_ROOT

PATH = REPO_ROOT / "lambda" / "personalize_handlers" / "contract.py"
NAME = "personalize_handlers.contract"


def _load() -> ModuleType:
    loaded = sys.modules.get(NAME)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(NAME, PATH)
    assert spec is not None and spec.loader is not None, PATH
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module  # before running it: dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:  # the type checker reads lambda/personalize_handlers as the package it is
    import personalize_handlers.contract as contract
else:
    contract = _load()

__all__ = ["contract"]
