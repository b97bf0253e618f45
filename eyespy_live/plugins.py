"""Plugin discovery shared by sources and face detectors.

A plugin is a subclass of a base class that sets a key attribute (`scheme`, `name`); its
module is imported from a listed package. A module whose import fails (a missing optional
package) is logged and skipped, so the other plugins keep working.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def discover(package: str, modules: Iterable[str], base: type[T], key: str) -> dict[str, type[T]]:
    """{key value: class} for every subclass of `base` that sets `key`, after importing."""
    for module_name in modules:
        try:
            importlib.import_module(f"{package}.{module_name}")
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the others
            log.warning("plugin %s.%s not loaded: %s", package, module_name, exc)
    found: dict[str, type[T]] = {}
    stack = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if getattr(cls, key, ""):
            found[getattr(cls, key)] = cls
    return found
