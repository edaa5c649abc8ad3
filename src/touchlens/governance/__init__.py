"""Privacy and governance: consent, erasure, retention, the audit log (docs/privacy.md).

Modules: :mod:`~touchlens.governance.actor` (who acts), :mod:`~touchlens.governance.audit`
(append-only, hash-chained log), :mod:`~touchlens.governance.consent` (latest status per
customer and purpose; the filter personalising analyses use), :mod:`~touchlens.governance.erasure`
(erase a person everywhere, with :mod:`~touchlens.governance.receipts` and
:mod:`~touchlens.governance.files`), :mod:`~touchlens.governance.retention`. Masking of
verbatims: :func:`touchlens.io.pii.mask_text`.
"""

from typing import Any

from touchlens.governance.actor import acting_as, current_actor

__all__ = ["ConsentFilter", "ErasureReceipt", "acting_as", "current_actor"]


def __getattr__(name: str) -> Any:  # the heavy modules load on first use
    if name == "ConsentFilter":
        from touchlens.governance.consent import ConsentFilter

        return ConsentFilter
    if name == "ErasureReceipt":
        from touchlens.governance.receipts import ErasureReceipt

        return ErasureReceipt
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
