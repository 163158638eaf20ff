"""The privacy gate for workspace's own texts, without importing cases.

Every text others read passes the PHI gate (``cases.phi_gate``), workspace
names and descriptions included. The gate's detectors live in ``cases``,
above workspace, so ``cases`` registers the gate here when its app is ready
(``CasesConfig.ready``) and workspace calls it through :func:`gate`.
Nothing is stored unchecked: with no gate registered, :func:`gate` raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .errors import ServiceError

__all__ = ["TextGate", "gate", "register"]


@dataclass(frozen=True)
class TextGate:
    """``check(fields=, dismissed=, by=, surface=)`` raises ``refused`` while a
    finding is neither fixed nor dismissed; ``dismissed_keys(request.POST)``
    and ``attach_findings(form, exc, dismissed=)`` let a form show them."""

    check: Callable[..., None]
    refused: type[ServiceError]
    dismissed_keys: Callable[[Any], set[str]]
    attach_findings: Callable[..., None]


_registered: TextGate | None = None


def register(text_gate: TextGate) -> None:
    global _registered
    _registered = text_gate


def gate() -> TextGate:
    if _registered is None:
        raise ImproperlyConfigured(
            "No PHI gate is registered: the cases app registers it when it is "
            "ready, so it must be in INSTALLED_APPS."
        )
    return _registered
