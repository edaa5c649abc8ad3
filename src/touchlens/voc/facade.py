"""``ws.voc``: voice-of-customer analyses of one workspace, as pandas DataFrames.

Grains: ``scores`` one row per group (× period); ``changes`` one row per group × period ×
metric; ``sentiment`` one row per analysed response; ``topics`` one row per topic;
``pain_points`` one row per topic × touchpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.voc import pain_points as P
from touchlens.voc import scores as S
from touchlens.voc import store as V
from touchlens.voc.aspects import TopicRules, topic_rules

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

DIMENSIONS = ("touchpoint", "channel", "stage", "segment", "language", "sentiment")
SENTIMENT_COLUMNS = ("response_id", "occurred_at", "touchpoint", "channel", "customer_id",
                     "language", "sentiment", "sentiment_score", "sentiment_mode", "topics",
                     "error", "text")


def _by_list(by: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if by is None:
        return []
    items = [by] if isinstance(by, str) else list(by)
    return [b for part in items for b in str(part).split(",") if b.strip()]


class VoiceOfCustomer:
    """Survey scores, sentiment, topics and pain points of ``ws``'s feedback."""

    def __init__(self, ws: Workspace, *, topics: str | Path | dict | None = None) -> None:
        self.ws = ws
        self._topics = topics
        self._rules: TopicRules | None = None

    @property
    def rules(self) -> TopicRules:
        if self._rules is None:
            self._rules = topic_rules(self._topics)
        return self._rules

    # -- per-text analysis ---------------------------------------------------------------
    def use_topics(self, topics: str | Path | dict | None) -> VoiceOfCustomer:
        """Extend the built-in topics with a YAML file or dict (see :func:`topic_rules`);
        takes effect for texts analysed from now on (``analyze(force=True)`` re-scores)."""
        self._topics, self._rules = topics, None
        return self

    def analyze(self, *, mode: str = "auto", force: bool = False,
                progress: Callable[[int], None] | None = None,
                on_start: Callable[[int, str], None] | None = None) -> dict[str, Any]:
        """Score feedback texts not yet analysed (all with ``force``) and store them in
        ``voc_texts`` / ``voc_aspects``; returns n_new, n_total, n_errors, mode."""
        return V.analyze_feedback(self.ws.store, mode=mode, force=force, rules=self.rules,
                                  progress=progress, on_start=on_start)

    def _ensure(self) -> None:
        if self.ws.store.execute(V.pending(self.ws.store, None, False).count().as_table()
                                 ).iloc[0, 0]:
            self.analyze(mode="fast")

    def sentiment(self, *, analyze: bool = True) -> pd.DataFrame:
        """One row per analysed response (:data:`SENTIMENT_COLUMNS`); pending texts are
        scored first in fast mode unless ``analyze=False``."""
        if analyze:
            self._ensure()
        fb = self.ws.store.table("feedback")
        t = V.texts_table(self.ws.store)
        expr = t.join(fb.select("response_id", "occurred_at", "touchpoint", "channel",
                                "customer_id", "text"), "response_id")
        return self.ws.store.execute(expr.select(*SENTIMENT_COLUMNS).order_by(
            ["occurred_at", "response_id"]))

    def sentiment_scores(self, *, analyze: bool = True) -> pd.DataFrame:
        """``response_id``, ``sentiment``, ``sentiment_score`` of every analysed response in
        the feedback: what other analyses join to the answers (:meth:`sentiment` without
        the other columns and the text — at 42k responses ~0.1 s → ~0.03 s)."""
        if analyze:
            self._ensure()
        fb = self.ws.store.table("feedback")
        t = V.texts_table(self.ws.store)
        expr = t.semi_join(fb, "response_id").select("response_id", "sentiment",
                                                     "sentiment_score")
        return self.ws.store.execute(expr.order_by("response_id"))

    # -- survey scores -------------------------------------------------------------------
    def feedback_table(self, by: list[str], segments: pd.DataFrame | None = None) -> ir.Table:
        """Feedback with the requested extra dimensions joined (lazy)."""
        fb = self.ws.store.table("feedback")
        if "stage" in by:
            cat = self.ws.touchpoints()[["touchpoint", "stage"]].drop_duplicates("touchpoint")
            fb = fb.left_join(ibis.memtable(cat), "touchpoint").drop("touchpoint_right")
        if "segment" in by:
            if segments is None:  # default: the RFM segments of touchlens.loyalty
                segments = self.ws.rfm()
            if not {"customer_id", "segment"} <= set(segments.columns):
                raise ConfigError("by='segment' needs segments=DataFrame(customer_id, segment)")
            seg = ibis.memtable(segments[["customer_id", "segment"]].astype(str)
                                .drop_duplicates("customer_id"))
            fb = fb.left_join(seg, "customer_id").drop("customer_id_right")
        if "sentiment" in by:
            self._ensure()
            t = V.texts_table(self.ws.store).select("response_id", "sentiment")
            fb = fb.left_join(t, "response_id").drop("response_id_right")
        if "language" in by:
            self._ensure()
            t = V.texts_table(self.ws.store).select("response_id", lang="language")
            fb = fb.left_join(t, "response_id").drop("response_id_right")
            fb = fb.mutate(language=fb.lang.fill_null(fb.language)).drop("lang")
        return fb

    def scores(self, by: str | list[str] | None = "touchpoint", *, period: str | None = None,
               segments: pd.DataFrame | None = None) -> pd.DataFrame:
        """NPS / CSAT / CES with n, 95% CI and small-n flags per ``by`` (any of
        :data:`DIMENSIONS` or a feedback column) and ``period`` (week|month|quarter).
        ``segment`` comes from ``segments`` (customer_id, segment), by default ``ws.rfm()``."""
        keys = _by_list(by)
        fb = self.feedback_table(keys, segments)
        counts = self.ws.store.execute(S.score_counts(fb, keys, period))
        return S.scores_frame(counts, keys, period)

    def changes(self, by: str | list[str] | None = None, *, period: str = "month",
                segments: pd.DataFrame | None = None) -> pd.DataFrame:
        """Change of each score between consecutive periods per group, with the test used,
        statistic, p-value, ``significant`` (p < 0.05) and ``small_n``."""
        keys = _by_list(by)
        fb = self.feedback_table(keys, segments)
        counts = self.ws.store.execute(S.score_counts(fb, keys, period))
        return S.period_changes(counts, keys)

    # -- topics and pain points ----------------------------------------------------------
    def topics(self, *, period: str = "month") -> pd.DataFrame:
        """One row per topic: volume, sentiment, mapped touchpoints and trend."""
        self._ensure()
        st = self.ws.store
        return P.topic_table(st.execute, st.table("feedback"), V.texts_table(st),
                             V.aspects_table(st), self.rules.touchpoints, period=period)

    def pain_points(self, *, top: int | None = 20, period: str = "month",
                    examples: int = 2) -> pd.DataFrame:
        """Topic × touchpoint pain points ranked by CSAT impact, then negative volume."""
        if top is not None and top < 1:
            raise ConfigError(f"top must be at least 1, not {top}")
        self._ensure()
        st = self.ws.store
        return P.pain_point_table(st.execute, st.table("feedback"), V.aspects_table(st),
                                  period=period, top=top, examples=examples)
