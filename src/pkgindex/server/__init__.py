"""``pkgindex serve``: the index over HTTP, with the PEP 691 JSON API and uploads.

- ``http``: pure HTTP helpers (content negotiation, byte ranges, conditional requests)
- ``pages``: the pages and catalog entries, held in memory, refreshed when the store changes
- ``files``: distribution and ``.metadata`` file responses
- ``tokens``: upload and read tokens, stored as hashes
- ``uploads``: the legacy upload API (``twine upload``, ``uv publish``)
- ``app``: the ASGI application, built by ``create_app``
- ``run``: binding the socket and running it under uvicorn
"""
