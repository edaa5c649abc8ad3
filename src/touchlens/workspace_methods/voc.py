"""Voice of customer: ``ws.voc`` (touchlens.voc; docs/voc.md)."""

from __future__ import annotations

from typing import Any


class VoiceOfCustomerMethods:
    """Workspace methods; mixed into :class:`touchlens.Workspace`."""

    @property
    def voc(self) -> Any:
        """Voice of customer: ``ws.voc.scores(by=..., period=...)``, ``.changes()``,
        ``.analyze()``, ``.sentiment()``, ``.topics()``, ``.pain_points()`` (DataFrames)."""
        from touchlens.voc.facade import VoiceOfCustomer

        if getattr(self, "_voc", None) is None:
            self._voc = VoiceOfCustomer(self)
        return self._voc
