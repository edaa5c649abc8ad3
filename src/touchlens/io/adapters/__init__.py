"""Adapters for other tools' export formats (GA4 BigQuery export) and traffic-source rules."""
