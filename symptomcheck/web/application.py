"""The Flask class the app is made of: Flask, doing once per function what Flask does on every request."""

from __future__ import annotations

from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask


class App(Flask):
    """Flask, remembering which hooks and views are plain functions.

    Flask asks `inspect.iscoroutinefunction` of every hook and view on every
    request (14 times a page here, about 10 µs in all); the answer never changes
    for a function, so it is worked out once per function.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain_functions: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self.plain_functions:
                return func
        except TypeError:  # not hashable: ask every time, as Flask does
            return super().ensure_sync(func)
        if iscoroutinefunction(func):
            return self.async_to_sync(func)
        if len(self.plain_functions) < 1000:  # hooks and views are few; a bound method of a new object each time is not
            self.plain_functions.add(func)
        return func
