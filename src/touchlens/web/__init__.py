"""The browser dashboard, served by the API app at ``/`` (see :mod:`touchlens.web.routes`)."""
