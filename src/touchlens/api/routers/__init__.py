"""One router per resource, composed in :func:`touchlens.api.create_app`."""
