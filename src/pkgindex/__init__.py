"""pkgindex: a static, standards-complete Python package index you own."""

__version__ = "0.1.0"
