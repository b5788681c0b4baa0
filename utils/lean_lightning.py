"""Lightning, imported without the two packages a run never uses: ``from utils.lean_lightning import pl``.

``import lightning`` loads ``torch._dynamo`` (about 1.2 s of a 2-core CPU, with sympy and
``torch.distributed.tensor``) for ``isinstance(x, OptimizedModule)`` checks, and ``torchmetrics`` (about 0.5 s,
with matplotlib) for its version number and ``isinstance(x, Metric)`` checks. This framework never hands
Lightning a compiled module or logs a torchmetrics ``Metric``, so while Lightning imports, both packages are
stand-ins: ``OptimizedModule``, ``Metric`` and ``MetricCollection`` are classes nothing is an instance of,
``torchmetrics.__version__`` is the installed version, and any other attribute loads the real package. The
stand-ins leave ``sys.modules`` as soon as Lightning is in: a later ``import torch._dynamo`` or
``import torchmetrics`` gets the real one. When either is already imported, Lightning gets the real one.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _StandIn(types.ModuleType):
    """A module with a few placeholder classes; any other attribute comes from the real module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probing (``__path__``, ``__file__``): not a package
            raise AttributeError(name)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _stand_in(name: str, classes: tuple[str, ...], **attributes: Any) -> _StandIn:
    module = _StandIn(name, f"stand-in for {name} while Lightning imports (utils/lean_lightning.py)")
    for cls in classes:
        setattr(module, cls, type(cls, (), {"__module__": name, "__doc__": "Stand-in: nothing is an instance."}))
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


@contextmanager
def _standing_in(stand_ins: list[_StandIn]) -> Iterator[None]:
    """``stand_ins`` in ``sys.modules`` (each only where its real module is not loaded) for the block."""
    placed = [module for module in stand_ins if module.__name__ not in sys.modules]
    for module in placed:
        sys.modules[module.__name__] = module
    try:
        yield
    finally:
        for module in placed:
            if sys.modules.get(module.__name__) is module:
                del sys.modules[module.__name__]
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(vars(torch).get("_dynamo"), _StandIn):
            delattr(torch, "_dynamo")  # torch's own lazy __getattr__ imports the real one when asked


def _not_compiled(fn: Any = None, recursive: bool = True, **_: Any) -> Any:
    """``torch._dynamo.disable`` outside compilation: the function itself (the marker only matters to dynamo)."""
    return fn if fn is not None else (lambda inner: inner)


_STAND_INS = [
    _stand_in("torch._dynamo", ("OptimizedModule",), disable=_not_compiled),
    _stand_in("torchmetrics", ("Metric", "MetricCollection"), __version__=importlib.metadata.version("torchmetrics")),
]

with _standing_in(_STAND_INS):
    import lightning as pl

__all__ = ["pl"]
