"""AI visibility metrics per brand (and per assistant, topic, week, market or language).

Over the per-answer table of :func:`touchlens.aivis.mentions.answer_mentions`, per group:

- ``answers``: answers in the group (every brand row has the same count);
- ``mention_rate`` = answers mentioning the brand / answers, with a 95 % Wilson interval
  (``mention_rate_low``/``_high``);
- ``citation_rate`` = answers citing a URL on the brand's domains / answers, Wilson interval;
- ``avg_position``: mean rank of the brand's first mention among the brands named, over the
  answers that mention it (1 = named first);
- ``share_of_voice`` = answers mentioning the brand / Σ over dictionary brands of answers
  mentioning them (each answer counts at most once per brand);
- ``sentiment``: mean over the answers mentioning the brand of the mean sentence score
  (−1..1);
- ``stability``: run-to-run agreement when one prompt was sampled several times from one
  assistant (same market and language): for a prompt with n samples of which k mention the
  brand, the chance that two different samples agree is
  [k(k−1) + (n−k)(n−k−1)] / [n(n−1)]; the figure is its mean over such prompts (1 = the
  assistant always answers alike; NULL when no prompt was repeated), ``repeated_prompts``
  their number.

The Wilson interval treats answers as independent; repeated samples of one prompt are
correlated, so read it as a lower bound on the uncertainty (stability says how much).
Week = the ISO week (Monday) of ``collected_at`` in UTC.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from touchlens.errors import ConfigError

Z95 = 1.959963984540054
BY = ("assistant", "topic", "week", "market", "language")
COLUMNS = ["brand", "answers", "mention_rate", "citation_rate", "avg_position",
           "share_of_voice", "sentiment", "mention_rate_low", "mention_rate_high",
           "citation_rate_low", "citation_rate_high", "n_mentioned", "n_cited", "stability",
           "repeated_prompts", "is_target"]
NO_GROUP = "(none)"


def wilson_interval(k: ir.NumericValue, n: ir.NumericValue,
                    z: float = Z95) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    """Wilson score interval of k successes in n trials (Ibis expressions, n > 0)."""
    n = n.cast("float64")
    p = k.cast("float64") / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt() / denom
    return centre - half, centre + half


def _prepare(mentions: ir.Table) -> ir.Table:
    m = mentions
    return m.mutate(
        week=m.collected_at.truncate("W").cast("date").cast("string"),
        topic=m.topic.fill_null(NO_GROUP), market=m.market.fill_null(NO_GROUP),
        language=m.language.fill_null(NO_GROUP), assistant=m.assistant.fill_null(NO_GROUP),
        hit=m.mentioned.cast("int64"), cite=m.cited.cast("int64"),
    )


def stability(mentions: ir.Table, by: str | None = None) -> ir.Table:
    """Per [by ×] brand: stability and repeated_prompts (see the module docstring)."""
    m = _prepare(mentions)
    keys = [by] if by else []
    run = list(dict.fromkeys([*keys, "brand", "assistant", "prompt", "market", "language"]))
    runs = m.group_by(run).agg(n=m.count(), k=m.hit.sum())
    runs = runs.filter(runs.n >= 2)
    n, k = runs.n.cast("float64"), runs.k.cast("float64")
    runs = runs.mutate(agree=(k * (k - 1) + (n - k) * (n - k - 1)) / (n * (n - 1)))
    return runs.group_by([*keys, "brand"]).agg(stability=runs.agree.mean(),
                                               repeated_prompts=runs.count())


def ai_visibility(mentions: ir.Table, by: str | None = None) -> ir.Table:
    """One row per [by ×] brand with the metrics of the module docstring, target first."""
    if by is not None and by not in BY:
        raise ConfigError(f"cannot group AI visibility by {by!r}; use one of {', '.join(BY)}")
    m = _prepare(mentions)
    keys = [by] if by else []
    per = m.group_by([*keys, "brand", "is_target"]).agg(
        answers=m.answer_id.nunique(),
        n_mentioned=m.hit.sum(),
        n_cited=m.cite.sum(),
        avg_position=m.position.cast("float64").mean(),
        sentiment=m.sentiment.mean(),
    )
    voices = per.n_mentioned.sum().over(ibis.window(group_by=keys) if keys else ibis.window())
    m_low, m_high = wilson_interval(per.n_mentioned, per.answers)
    c_low, c_high = wilson_interval(per.n_cited, per.answers)
    per = per.mutate(
        mention_rate=per.n_mentioned.cast("float64") / per.answers,
        citation_rate=per.n_cited.cast("float64") / per.answers,
        share_of_voice=ibis.ifelse(voices > 0, per.n_mentioned.cast("float64") / voices,
                                   ibis.null("float64")),
        mention_rate_low=m_low, mention_rate_high=m_high,
        citation_rate_low=c_low, citation_rate_high=c_high,
    )
    stab = stability(mentions, by)
    out = per.left_join(stab, [*keys, "brand"])
    out = out.mutate(repeated_prompts=out.repeated_prompts.fill_null(0)).select(*keys, *COLUMNS)
    return out.order_by([*keys, ibis.desc("is_target"), ibis.desc("share_of_voice"), "brand"])
