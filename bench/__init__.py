"""Side-by-side benchmarks: aiopinterest against bare aiohttp + msgspec, the official client, python-pinterest
and pydantic models. ``python -m bench`` (or ``make bench``) runs everything and writes BENCHMARKS.md.

This package is imported inside every client's own virtual environment, so its top level and the modules the
children load (``config``, ``payloads``, ``child``, ``drivers.base``) use the standard library only.
"""
