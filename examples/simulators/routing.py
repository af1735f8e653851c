"""Route tables: ``(method, "/path/{param}")`` patterns mapped to handlers.

``{name}`` matches one path segment; ``{name:path}`` matches the rest of the path, slashes
included (used by ``/generic/{anything:path}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .core import HttpError, Json, Request

Handler = Callable[[Request], tuple[int, Json]]

_PLACEHOLDER = re.compile(r"\{(\w+)(?::(path))?\}")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Turn a path pattern into an anchored regex with named groups."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        segment = ".+" if match.group(2) else "[^/]+"
        parts.append(f"(?P<{match.group(1)}>{segment})")
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    return re.compile("^" + "".join(parts) + "$")


@dataclass(frozen=True)
class Route:
    """One endpoint; the compiled regex is derived so callers only write the pattern."""

    method: str
    pattern: str
    handler: Handler
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_pattern(self.pattern))

    @property
    def name(self) -> str:
        """``"POST /ports/reserve"``: the key used by per-route statistics."""
        return f"{self.method} {self.pattern}"


def routes_for(methods: Iterable[str], pattern: str, handler: Handler) -> list[Route]:
    """The same handler under several methods (e.g. the generic endpoint)."""
    return [Route(method, pattern, handler) for method in methods]


class RouteTable:
    """Resolves a request to a route, with JSON 404/405 answers for everything else."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = list(routes)

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The matching route and its path parameters, or an :class:`HttpError`."""
        allowed: list[str] = []
        for route in self._routes:
            match = route.regex.match(path)
            if match is None:
                continue
            if route.method == method:
                return route, match.groupdict()
            allowed.append(route.method)
        if allowed:
            raise HttpError(405, "method not allowed", allowed=sorted(set(allowed)))
        raise HttpError(404, "not found", path=path)
