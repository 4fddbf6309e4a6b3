"""Which proxy each request goes through."""

from __future__ import annotations

import urllib.request

from yarl import URL


class ProxySelector:
    """The proxy for each request: the ``proxy=`` option, else (with ``trust_env``) ``HTTPS_PROXY``/``HTTP_PROXY``
    unless ``NO_PROXY`` names the host.

    Done here rather than by aiohttp's ``trust_env``, which re-reads the environment and ``.netrc`` in a worker
    thread on every request: two thread hops that cost more than a whole request to a nearby server. The
    environment is read once, when the client is created; ``.netrc`` is not consulted (the API takes bearer tokens).
    """

    __slots__ = ("_by_host", "_environment", "_explicit")

    def __init__(self, explicit: str | None, *, trust_env: bool) -> None:
        self._explicit = explicit
        self._environment = urllib.request.getproxies_environment() if trust_env and explicit is None else {}
        self._by_host: dict[tuple[str, str | None], str | None] = {}

    @property
    def configured(self) -> bool:
        """Whether any request may go through a proxy (else the transport does without a selector)."""
        return self._explicit is not None or bool(self._environment)

    def for_url(self, url: URL) -> str | None:
        if self._explicit is not None:
            return self._explicit
        key = (url.scheme, url.host)
        if key not in self._by_host:
            proxy = self._environment.get(url.scheme)
            # proxy_bypass_environment: public in CPython (it is what urllib itself uses), missing from typeshed.
            bypass = url.host is not None and urllib.request.proxy_bypass_environment(  # type: ignore[attr-defined]
                url.host, self._environment
            )
            self._by_host[key] = None if bypass else proxy
        return self._by_host[key]
