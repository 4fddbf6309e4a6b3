"""The package version, in a module of its own so that the client can name it without importing the package
facade (which, for type checkers, imports the client)."""

__version__ = "0.1.0"
