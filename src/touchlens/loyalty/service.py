"""The loyalty analyses of a Workspace, as pandas frames (the ``Workspace`` methods delegate
here so that workspace.py stays a thin facade)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from touchlens.errors import ConfigError
from touchlens.loyalty import cohorts as C
from touchlens.loyalty import rfm as R
from touchlens.loyalty import summary as S
from touchlens.loyalty.clv import CLVModel

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

SUMMARY_ORDER = ["customer_id"]
CONSENT_PURPOSE = "personalization"
N_EXCLUDED = "n_excluded_no_consent"  # DataFrame.attrs key of the personalising analyses


@dataclass
class Consented:
    """The data a personalising analysis may use: events and journey-tagged events of the
    customers with ``personalization`` consent (docs/privacy.md), and how many were left out."""

    events: Any  # Ibis table, resolved events of consenting customers
    tagged: Any  # Ibis table, the same tagged with journey_id (ws.journey_events' grain)
    n_excluded: int  # distinct identified customers excluded
    note: str  # the sentence to print under the result
    filter: Any  # the ConsentFilter (``filter_frame`` for id lists)

    def mark(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Record the exclusion on ``frame.attrs`` (``n_excluded_no_consent``,
        ``consent_note``, ``consent_tracked``) and return it."""
        frame.attrs[N_EXCLUDED] = self.n_excluded
        frame.attrs["consent_note"] = self.note
        frame.attrs["consent_tracked"] = bool(self.filter.tracked)
        return frame


def consented(ws: Workspace) -> Consented:
    """Events narrowed to the customers with ``personalization`` consent."""
    from touchlens import journeys as J

    f = ws.consent_filter(CONSENT_PURPOSE)
    events = ws.events()
    known = events.filter(events.customer_id.notnull())
    kept = f.keep(known)
    n = f.n_excluded(known)
    return Consented(kept, J.journey_events(kept, ws.settings.lookback_days), n, f.note(n), f)


def purchases(ws: Workspace) -> Any:
    """Lazy Ibis table of the workspace's purchases (one row per order)."""
    return S.purchases(ws.events())


def rfm(ws: Workspace, *, as_of: Any = None) -> pd.DataFrame:
    expr = R.rfm_table(purchases(ws), as_of=as_of)
    return ws.store.execute(expr.order_by(["customer_id"]))


def rfm_segments(ws: Workspace, *, as_of: Any = None) -> pd.DataFrame:
    return ws.store.execute(R.rfm_segments(R.rfm_table(purchases(ws), as_of=as_of)))


def cohorts(ws: Workspace, *, by: str = "period", period: str = "month",
            max_periods: int | None = None) -> pd.DataFrame:
    events = ws.events() if by != "period" else None
    expr = C.cohort_retention(purchases(ws), period=period, by=by, events=events,
                              max_periods=max_periods)
    return ws.store.execute(expr)


def churn(ws: Workspace, *, period: str = "month") -> pd.DataFrame:
    return ws.store.execute(C.churn_rates(purchases(ws), period=period))


def clv_summary(ws: Workspace, *, unit: str = "week", observation_end: Any = None,
                calibration_end: Any = None) -> pd.DataFrame:
    """Per-customer summary; with ``calibration_end`` the calibration/holdout split."""
    p = purchases(ws)
    if calibration_end is not None:
        expr = S.calibration_holdout(p, calibration_end=calibration_end,
                                     observation_end=observation_end, unit=unit)
    else:
        expr = S.customer_summary(p, unit=unit, observation_end=observation_end)
    return ws.store.execute(expr.order_by("customer_id"))


def clv_fit(ws: Workspace, *, unit: str = "week", observation_end: Any = None,
            summary: pd.DataFrame | None = None) -> CLVModel:
    frame = summary if summary is not None else clv_summary(
        ws, unit=unit, observation_end=observation_end)
    if frame.empty:
        raise ConfigError("no purchases to fit: the workspace has no 'purchase' events "
                          "with a customer")
    return CLVModel(unit=unit).fit(frame)


def clv_predict(ws: Workspace, *, unit: str = "week", observation_end: Any = None,
                horizon_months: int = 12, margin: float = 1.0, discount_rate: float = 0.01,
                model: CLVModel | None = None, events: Any = None) -> pd.DataFrame:
    """``events`` (Ibis) narrows the customers, e.g. to :func:`consented` ones."""
    if events is None:
        frame = clv_summary(ws, unit=unit, observation_end=observation_end)
    else:
        expr = S.customer_summary(S.purchases(events), unit=unit,
                                  observation_end=observation_end)
        frame = ws.store.execute(expr.order_by("customer_id"))
    model = model or clv_fit(ws, unit=unit, summary=frame)
    return model.predict(frame, horizon_months=horizon_months, margin=margin,
                         discount_rate=discount_rate)


def loyalty_drivers(ws: Workspace, *, index_date: Any = None, exposure_days: int = 90,
                    horizon_days: int = 90, min_exposed: int = 30) -> pd.DataFrame:
    from touchlens.loyalty.drivers import loyalty_drivers as drivers

    events = ws.events()
    return drivers(events, S.purchases(events), ws.store.table("feedback"), ws.store.execute,
                   index_date=index_date, exposure_days=exposure_days,
                   horizon_days=horizon_days, min_exposed=min_exposed)


def _next_best_data(ws: Workspace, candidates: list[str] | None, data: Consented
                    ) -> tuple[list[str], Any]:
    from touchlens.loyalty import next_best as NB

    if candidates is None:
        found = ws.store.execute(NB.candidate_touchpoints(data.events))
        candidates = found["touchpoint"].tolist()
    if not candidates:
        raise ConfigError("no candidate touchpoints: no touchpoint's events are mostly "
                          "contacts (impressions, sends, opens, clicks …)")
    long = ws.store.execute(NB.journey_touches(data.tagged, list(candidates)))
    if long.empty:
        raise ConfigError("no journeys: ingest events first" if not data.n_excluded else
                          f"no journeys left: {data.note}")
    return list(candidates), long


def next_best_touchpoint(ws: Workspace, customer_ids: Any, *, top: int = 3,
                         candidates: list[str] | None = None, l2: float = 1.0,
                         min_journeys: int = 50) -> pd.DataFrame:
    """customer_id, journey_id (their latest journey, or NULL after a purchase: a new one
    starts), rank, touchpoint, uplift, p_convert, p_convert_after. Only customers with
    personalization consent are trained on and answered; the others asked for are listed in
    ``attrs["skipped_no_consent"]``."""
    from touchlens.loyalty import next_best as NB

    if isinstance(customer_ids, str):
        customer_ids = [customer_ids]
    asked = [str(c) for c in customer_ids]
    data = consented(ws)
    allowed, _ = data.filter.filter_frame(pd.DataFrame({"customer_id": asked}))
    wanted = [c for c in asked if c in set(allowed["customer_id"])]
    skipped = [c for c in asked if c not in set(wanted)]
    cols = ["customer_id", "journey_id", "rank", "touchpoint", "uplift", "p_convert",
            "p_convert_after"]
    if not wanted:
        out = data.mark(pd.DataFrame(columns=cols))
        out.attrs["skipped_no_consent"] = skipped
        return out
    candidates, long = _next_best_data(ws, candidates, data)
    journeys = long.drop_duplicates("journey_id").set_index("journey_id")
    counts = NB.wide_counts(long, candidates, "n")
    model = NB.NextBestTouchpoint(l2=l2, min_journeys=min_journeys).fit(
        counts, journeys["converted"])
    latest = (journeys.reset_index().sort_values(["customer_id", "started_at", "journey_id"])
              .drop_duplicates("customer_id", keep="last").set_index("customer_id"))
    unknown = [c for c in wanted if c not in latest.index]
    if unknown:
        raise ConfigError(f"unknown customer(s) {unknown[:5]}: no events for them")
    rows = []
    for c in wanted:
        j = latest.loc[c]
        open_journey = not bool(j["converted"])
        prefix = (counts.loc[[j["journey_id"]]] if open_journey
                  else pd.DataFrame(0.0, index=[j["journey_id"]], columns=candidates))
        prefix.index.name = "journey_id"
        rec = model.recommend(prefix, top=top)
        rec.insert(0, "customer_id", c)
        rec["journey_id"] = j["journey_id"] if open_journey else None
        rows.append(rec)
    out = data.mark(pd.concat(rows, ignore_index=True)[cols])
    out.attrs["skipped_no_consent"] = skipped
    return out


def next_best_evaluation(ws: Workspace, *, holdout_share: float = 0.3, top: int = 3,
                         candidates: list[str] | None = None, l2: float = 1.0,
                         min_journeys: int = 50) -> pd.DataFrame:
    from touchlens.loyalty import next_best as NB

    data = consented(ws)
    candidates, long = _next_best_data(ws, candidates, data)
    out = NB.evaluate(long, candidates, holdout_share=holdout_share, top=top, l2=l2,
                      min_journeys=min_journeys)
    out["split_at"] = out.attrs["split_at"]
    return data.mark(out)


def _segments_expr(ws: Workspace, data: Consented, *, clv: bool, unit: str = "week") -> Any:
    import ibis

    from touchlens.loyalty import segments as G

    media = ws.touchpoints()[["touchpoint", "medium"]].astype({"medium": "string"})
    seg = G.customer_segments(data.tagged, S.purchases(data.events), ibis.memtable(media))
    if clv:
        tiers = G.clv_tiers(clv_predict(ws, unit=unit, events=data.events))
        t = ibis.memtable(tiers)
        seg = seg.left_join(t, "customer_id").select(
            *seg.columns, clv=t.clv, clv_tier=t.clv_tier.fill_null("none"))
    return seg


def segments(ws: Workspace, *, clv: bool = False) -> pd.DataFrame:
    """One row per consenting customer: customer_id, rfm_segment, preferred_channel,
    journey_shape (+ clv, clv_tier with ``clv=True``); ``attrs`` say how many were excluded."""
    data = consented(ws)
    return data.mark(ws.store.execute(_segments_expr(ws, data, clv=clv).order_by("customer_id")))


def segment_profiles(ws: Workspace, *, by: str = "journey_shape") -> pd.DataFrame:
    from touchlens import journeys as J
    from touchlens.loyalty import segments as G

    data = consented(ws)
    seg = _segments_expr(ws, data, clv=by == "clv_tier")
    return data.mark(ws.store.execute(G.segment_profiles(seg, J.journeys(data.tagged), by)))


def segment_scorecard(ws: Workspace, *, by: str = "journey_shape") -> pd.DataFrame:
    from touchlens import journeys as J
    from touchlens.loyalty import segments as G

    data = consented(ws)
    seg = _segments_expr(ws, data, clv=by == "clv_tier")
    tagged = data.tagged
    return data.mark(ws.store.execute(G.segment_scorecard(seg, tagged, J.journeys(tagged), by)))
