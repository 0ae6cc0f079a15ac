"""Handing a worker thread's result back to the app's event loop.

Workers (loading, refreshing, weekly metrics) finish on their own threads; what
they found is applied on the app's thread. A worker that finishes while the app
is closing has nobody left to tell, and that is not an error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from textual.app import App


def from_thread(app: App[Any], callback: Callable[..., Any], *args: Any) -> None:
    """Run ``callback(*args)`` on ``app``'s thread (nothing if the app is closing)."""
    with contextlib.suppress(RuntimeError):  # the app is closing
        app.call_from_thread(callback, *args)
