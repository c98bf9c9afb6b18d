"""The expected permission of every route, one module per capability.

Each module here defines ``ROUTES`` (endpoint -> roles allowed at the target
organisation, a commune of the district), optionally ``HIDDEN`` (endpoints whose
refusal is 404 because the item is "MẬT" and must not be seen to exist),
optionally ``NOT_FOUND_FOR`` (endpoint -> roles whose refusal is 404 because they
may not see the target record at all, while the others who may not act are
refused with 403) and optionally ``targets(session, world) -> dict`` (URL
arguments for its routes, built from records the test can change freely; a key
``(endpoint, argument)`` gives that endpoint its own value of the argument).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]


MODULES = _modules()
MATRIX = {endpoint: roles for module in MODULES for endpoint, roles in module.ROUTES.items()}
HIDDEN = {endpoint for module in MODULES for endpoint in getattr(module, "HIDDEN", ())}
NOT_FOUND_FOR = {
    endpoint: roles for module in MODULES for endpoint, roles in getattr(module, "NOT_FOUND_FOR", {}).items()
}
TARGET_BUILDERS = [module.targets for module in MODULES if hasattr(module, "targets")]
