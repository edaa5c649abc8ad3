"""AI-assistant answers as touchpoints: brand visibility and mentions (touchlens.aivis;
docs/ai_visibility.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd


class AIAnswerMethods:
    """Workspace methods; mixed into :class:`touchlens.Workspace`."""

    def ai_visibility(self, brands: Any, *, by: str | None = None) -> pd.DataFrame:
        """Brand visibility in the stored AI answers, one row per [by ×] brand: brand,
        answers, mention_rate, citation_rate, avg_position, share_of_voice, sentiment, Wilson
        bounds, n_mentioned, n_cited, stability, repeated_prompts, is_target. ``brands``: a
        :class:`touchlens.aivis.BrandSet`, a brands YAML path or dict, or names (target
        first); ``by``: assistant, topic, week, market or language."""
        from touchlens.aivis import visibility_report

        return visibility_report(self.store, brands, by=by)

    def ai_answer_mentions(self, brands: Any) -> pd.DataFrame:
        """One row per stored AI answer × brand: mentioned, cited, position, n_mentions,
        sentiment (grain and columns: :mod:`touchlens.aivis.mentions`)."""
        from touchlens.aivis.report import stored_mentions

        return stored_mentions(self.store, brands)

    def ai_visibility_alerts(self, brands: Any, *, alpha: float = 0.01,
                             baseline_weeks: int = 4, min_answers: int = 20,
                             store: bool = True) -> pd.DataFrame:
        """Week-on-week changes of each brand's mention and citation rate in the stored AI
        answers (two-proportion z-tests, Bonferroni per week; :mod:`touchlens.aivis.trends`).
        With ``store`` the new ones go to the ``alerts`` table (returned: the new rows);
        without, every change found is returned."""
        from touchlens.aivis.report import stored_mentions
        from touchlens.aivis.trends import visibility_changes, weekly
        from touchlens.monitoring.alerts import store_alerts, to_rows

        mentions = stored_mentions(self.store, brands)
        changes = visibility_changes(weekly(mentions), alpha=alpha,
                                     baseline_weeks=baseline_weeks, min_answers=min_answers)
        return store_alerts(self.store, changes) if store else to_rows(changes)
