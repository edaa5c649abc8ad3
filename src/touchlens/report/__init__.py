"""The self-contained HTML report (``touchlens report``)."""

from touchlens.report.build import build_report, write_report

__all__ = ["build_report", "write_report"]
