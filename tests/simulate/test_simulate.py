"""The demo world: schema, determinism, realism and a ground truth the data actually follows."""

from __future__ import annotations

import csv
import re
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from touchlens.errors import ConfigError
from touchlens.simulate import (
    EXPOSURES,
    SimulatedWorld,
    simulate_retailer,
    true_conversion_probability,
    write_parquet,
)
from touchlens.simulate.ground_truth import removal_effects
from touchlens.store import schema as S

CHANNELS = {
    "paid_search", "organic_search", "display", "social_organic", "social_paid", "influencer",
    "reviews", "ai_assistant", "web", "app", "email", "sms", "push", "store", "call_center",
    "chat", "delivery", "packaging", "loyalty", "referral", "print", "events", "video", "tv",
    "direct",
}
START = pd.Timestamp("2026-01-01", tz="UTC")


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return simulate_retailer(4000, seed=7)


@pytest.fixture(scope="module")
def big() -> SimulatedWorld:
    return simulate_retailer(20_000, seed=11)


@pytest.fixture(scope="module")
def catalogue() -> pd.DataFrame:
    path = resources.files("touchlens.journeys").joinpath("catalogue_builtin.csv")
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


# --- the built-in catalogue ------------------------------------------------------------------

def test_catalogue_columns_and_vocabularies(catalogue: pd.DataFrame) -> None:
    path = resources.files("touchlens.journeys").joinpath("catalogue_builtin.csv")
    with path.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == list(S.TOUCHPOINTS.names)
    assert len(catalogue) >= 32
    assert catalogue.touchpoint.is_unique
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", tp) for tp in catalogue.touchpoint)
    assert set(catalogue.channel) <= CHANNELS
    for column, allowed in (("stage", S.STAGES), ("medium", S.MEDIA),
                            ("control", S.CONTROLS), ("cost_type", S.COST_TYPES)):
        assert set(catalogue[column]) == set(allowed), column
    assert (catalogue.primary_metric != "").all() and (catalogue.description != "").all()


def test_catalogue_primary_metrics_follow_the_taxonomy(catalogue: pd.DataFrame) -> None:
    metric = catalogue.set_index("touchpoint").primary_metric.str.lower()
    expected = {"social_post_organic": "engagement rate", "search_ad": "ctr",
                "product_review": "conversion impact", "cart": "abandonment",
                "store_cashier": "sales", "support_chat": "csat", "newsletter": "open",
                "loyalty_programme": "clv", "packaging": "social shares",
                "ai_answer": "citation frequency"}
    for tp, words in expected.items():
        assert words in metric[tp], tp


# --- schema, determinism, time window --------------------------------------------------------

def test_tables_conform_to_the_store_schema(world: SimulatedWorld) -> None:
    for name, schema in (("events", S.EVENTS), ("feedback", S.FEEDBACK), ("costs", S.COSTS),
                         ("identities", S.IDENTITIES)):
        table: pa.Table = getattr(world, name)
        assert table.schema.names == schema.names, name
        assert table.schema.types == schema.types, name
        assert table.num_rows > 0, name
    assert pc.all(pc.is_valid(world.events["event_id"])).as_py()
    assert len(pc.unique(world.events["event_id"])) == world.events.num_rows
    assert len(pc.unique(world.feedback["response_id"])) == world.feedback.num_rows
    keys = world.costs.select(["date", "touchpoint", "channel"]).to_pandas()
    assert not keys.duplicated().any()
    assert set(world.events["event_type"].to_pylist()) <= set(S.EVENT_TYPES)
    assert set(world.identities["id_type"].to_pylist()) <= set(S.ID_TYPES)
    ev = world.events.to_pandas()
    assert (ev.customer_id.notna() | ev.anonymous_id.notna()).all()


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b = simulate_retailer(600, seed=3), simulate_retailer(600, seed=3)
    for name in ("events", "feedback", "costs", "identities"):
        assert getattr(a, name).equals(getattr(b, name)), name
    pd.testing.assert_frame_equal(a.ground_truth, b.ground_truth)
    pd.testing.assert_frame_equal(a.journeys, b.journeys)
    c = simulate_retailer(600, seed=4)
    assert not a.events.equals(c.events)


def test_timestamps_lie_in_the_window(world: SimulatedWorld) -> None:
    for table in (world.events, world.feedback):
        ts = table["occurred_at"].to_pandas()
        assert ts.min() >= START and ts.max() < START + pd.Timedelta(days=90)
    costs = world.costs["date"].to_pandas()
    assert costs.min() >= START.date() and costs.max() < (START + pd.Timedelta(days=90)).date()
    short = simulate_retailer(300, seed=1, start="2025-06-10", days=14)
    ts = short.events["occurred_at"].to_pandas()
    lo = pd.Timestamp("2025-06-10", tz="UTC")
    assert ts.min() >= lo and ts.max() < lo + pd.Timedelta(days=14)


# --- realism ---------------------------------------------------------------------------------

def test_touchpoints_cover_stages_media_and_catalogue(world: SimulatedWorld,
                                                      catalogue: pd.DataFrame) -> None:
    ev = world.events.to_pandas()
    used = set(ev.touchpoint)
    assert len(used) >= 25
    assert used <= set(catalogue.touchpoint)
    cat = catalogue.set_index("touchpoint")
    pairs = ev[["touchpoint", "channel"]].drop_duplicates()
    assert (pairs.channel.to_numpy() == cat.loc[pairs.touchpoint, "channel"].to_numpy()).all()
    rows = cat.loc[sorted(used)]
    assert set(rows.stage) == set(S.STAGES)
    assert set(rows["medium"]) == set(S.MEDIA)
    assert set(rows.control) == set(S.CONTROLS)
    assert set(rows.cost_type) == set(S.COST_TYPES)
    assert set(world.feedback["touchpoint"].to_pylist()) <= set(catalogue.touchpoint)


def test_event_types_per_kind_of_touchpoint(world: SimulatedWorld) -> None:
    ev = world.events.to_pandas()
    types = ev.groupby("touchpoint").event_type.agg(set)
    assert {"impression", "click"} <= types["search_ad"]
    assert {"delivered", "open", "click"} <= types["newsletter"]
    assert {"visit"} <= types["homepage"] and {"page_view"} <= types["product_page"]
    assert {"add_to_cart"} <= types["cart"] and {"checkout", "purchase"} <= types["checkout"]
    assert types["store_cashier"] == {"purchase"} and types["store_visit"] == {"store_visit"}
    assert "support_contact" in types["call_center"] and "chat" in types["support_chat"]
    assert "return" in types["return_portal"] and "review" in types["customer_review"]


def test_purchases_orders_revenue_and_repeat_buyers(world: SimulatedWorld) -> None:
    ev = world.events.to_pandas()
    buy = ev[ev.event_type == "purchase"]
    assert buy.order_id.notna().all() and buy.order_id.is_unique
    assert (buy.revenue > 0).all() and (buy.currency == "PLN").all()
    assert ev.loc[ev.event_type != "purchase", "revenue"].isna().all()
    assert set(buy.touchpoint) == {"checkout", "app_checkout", "store_cashier"}
    assert buy.loc[buy.touchpoint == "store_cashier", "customer_id"].str.startswith("M").all()
    assert len(buy) == int(world.journeys.converted.sum())
    assert buy.revenue.sum() == pytest.approx(world.journeys.revenue.sum())
    per_customer = world.journeys.groupby("customer_id").converted.sum()
    assert (per_customer >= 2).sum() > 0.02 * (per_customer >= 1).sum()
    assert per_customer.max() >= 3


def test_costs_are_daily_sums_of_paid_event_costs(world: SimulatedWorld,
                                                  catalogue: pd.DataFrame) -> None:
    ev = world.events.to_pandas()
    paid = ev[ev.cost.notna()]
    assert (paid.currency == "PLN").all()
    assert ((paid.event_type == "click") | (paid.touchpoint != "search_ad")).all()
    daily = paid.groupby([paid.occurred_at.dt.date, "touchpoint"]).cost.sum().round(2)
    costs = world.costs.to_pandas().set_index(["date", "touchpoint"]).spend
    assert costs.index.sort_values().equals(daily.index.sort_values())
    assert np.allclose(costs.sort_index().to_numpy(), daily.sort_index().to_numpy(), atol=0.011)
    kinds = catalogue.set_index("touchpoint").cost_type
    assert (kinds[world.costs.to_pandas().touchpoint.unique()] == "paid").all()


def test_identity_links_anonymous_login_and_chains(world: SimulatedWorld) -> None:
    ev = world.events.to_pandas()
    ids = world.identities.to_pandas()
    assert (ev.customer_id.notna() & ev.anonymous_id.notna()).any()  # logins
    assert ev.customer_id.str.startswith("N", na=False).any()  # ESP keys (chains)
    assert {"email", "phone", "loyalty_card", "device", "anonymous"} <= set(ids.id_type)
    assert ids.loc[ids.id_type == "email", "id_value"].str.contains("@").all()
    # every customer key used in events or feedback reaches an e-shop account C…
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = sorted((find(a), find(b)), key=lambda x: (not x.startswith("customer|C"), x))
        if ra != rb:
            parent[rb] = ra

    for r in ids.itertuples():
        value = r.id_value.strip().lower() if r.id_type == "email" else r.id_value
        if r.id_type == "phone":
            digits = re.sub(r"\D", "", value)
            value = digits if len(digits) == 11 else "48" + digits
        union(f"{r.id_type}|{value}", f"customer|{r.customer_id}")
    keys = set(ev.customer_id.dropna()) | set(world.feedback["customer_id"].to_pylist())
    assert all(find(f"customer|{k}").startswith("customer|C") for k in keys)


def test_feedback_scores_languages_and_pain_points(big: SimulatedWorld) -> None:
    fb = big.feedback.to_pandas()
    assert fb.nps.dropna().between(0, 10).all()
    assert fb.csat.dropna().between(1, 5).all()
    assert fb.ces.dropna().between(1, 7).all()
    assert set(fb.touchpoint) >= {"post_purchase_survey", "support_chat", "call_center",
                                  "store_cashier", "delivery_courier"}
    text = fb[fb.text.notna()]
    assert set(text.language) == {"pl", "en"}
    assert 0.45 < (text.language == "pl").mean() < 0.75
    lower = text.text.str.lower()
    assert lower.str.contains("kurier się spóźnił").any()
    assert lower.str.contains("kurier sie spoznil").any()
    for pattern in ("nie polecam", "wcale nie by[łl]o [źz]le", "not bad at all",
                    "zwrot|refund|return", "niemi[łl]a|nieuprzejm|rude",
                    "zawiesza|wysypuje|crash", "p[łl]atno[śs][ćc]|payment", "za drogo|expensive",
                    "late"):
        assert lower.str.contains(pattern, regex=True).any(), pattern
    late = lower.str.contains("spóźni|spozni|late", regex=True)
    assert text.loc[late, "csat"].mean() < text.csat.mean() - 0.5
    happy = lower.str.contains("polecam!|recommend!|great", regex=True)
    assert text.loc[happy, "csat"].mean() > text.csat.mean() + 0.3


# --- ground truth ----------------------------------------------------------------------------

def test_ground_truth_shares(world: SimulatedWorld) -> None:
    gt = world.ground_truth
    assert list(gt.columns[:2]) == ["touchpoint", "channel"]
    assert {"true_effect", "true_incremental_conversions", "true_share"} <= set(gt.columns)
    assert gt.true_share.sum() == pytest.approx(1.0)
    assert (gt.true_share >= 0).all() and (gt.true_incremental_conversions >= 0).all()
    assert set(world.events["touchpoint"].to_pylist()) <= set(gt.touchpoint)
    zero = gt[gt.true_effect == 0]
    assert (zero.true_share == 0).all() and (gt.loc[gt.true_effect > 0, "true_share"] > 0).all()
    ch = world.ground_truth_channels
    assert ch.true_share.sum() == pytest.approx(1.0) and ch.channel.is_unique
    # channels hold their touchpoints' removal effects (joint removal is at least the largest)
    per_tp = gt.groupby("channel").true_incremental_conversions.max()
    joint = ch.set_index("channel").true_incremental_conversions
    assert (joint >= per_tp[joint.index] - 1e-9).all()


def test_ground_truth_follows_effect_overrides() -> None:
    w = simulate_retailer(800, seed=2, effects={"search_ad": 0.0, "social_post_organic": 0.3})
    gt = w.ground_truth.set_index("touchpoint")
    assert gt.loc["search_ad", "true_share"] == 0.0
    assert gt.loc["social_post_organic", "true_effect"] == 0.3
    assert gt.loc["social_post_organic", "true_share"] > 0.1


def test_journey_probabilities_follow_the_model(world: SimulatedWorld) -> None:
    j = world.journeys
    for row in j.sample(200, random_state=0).itertuples():
        touches = {e.touchpoint: getattr(row, f"n_{e.touchpoint}") for e in EXPOSURES}
        assert row.p_conversion == pytest.approx(
            true_conversion_probability(touches, row.base), rel=1e-9)


def test_empirical_conversion_matches_true_probability(big: SimulatedWorld) -> None:
    j = big.journeys[~big.journeys.censored]
    bins = pd.qcut(j.p_conversion, 10, labels=False)
    for _, g in j.groupby(bins):
        expected = g.p_conversion.sum()
        sd = np.sqrt((g.p_conversion * (1 - g.p_conversion)).sum())
        assert abs(g.converted.sum() - expected) < 4.5 * sd
    sd = np.sqrt((j.p_conversion * (1 - j.p_conversion)).sum())
    assert abs(j.converted.sum() - j.p_conversion.sum()) < 4 * sd
    # effect of one strong touchpoint, read from the data without the model
    with_ad = j.n_search_ad > 0
    lift = j.converted[with_ad].mean() - j.converted[~with_ad].mean()
    model = j.p_conversion[with_ad].mean() - j.p_conversion[~with_ad].mean()
    assert lift == pytest.approx(model, abs=0.025) and lift > 0.02


def test_censored_journeys_do_not_convert_at_the_horizon(big: SimulatedWorld) -> None:
    j = big.journeys
    censored = j[j.censored]
    # journeys running past the window are cut at its end and never convert inside it
    assert len(censored) > 0 and not censored.converted.any()
    assert (censored.revenue == 0).all()
    horizon = j.ended_at.max()
    assert (censored.ended_at == horizon).all()
    assert (j.loc[~j.censored, "ended_at"] < horizon).all()
    # so purchases do not pile up on the last day (they did when clipped to the horizon)
    events = big.events.to_pandas()
    buys = events[events.event_type == "purchase"]
    per_day = buys.groupby(buys.occurred_at.dt.floor("D")).size()
    assert per_day.iloc[-1] < 2 * per_day.iloc[-15:-1].mean()
    assert buys.occurred_at.value_counts().max() < 5


def test_truth_leaves_out_censored_journeys(world: SimulatedWorld) -> None:
    j = world.journeys[~world.journeys.censored]
    assert world.params["censored_journeys"] == world.journeys.censored.sum() > 0
    assert world.params["expected_conversions"] == pytest.approx(j.p_conversion.sum())
    assert world.params["expected_conversions"] < world.journeys.p_conversion.sum()
    effect = np.array([e.effect for e in EXPOSURES])
    kappa = np.array([e.kappa for e in EXPOSURES])
    counts = j[[f"n_{e.touchpoint}" for e in EXPOSURES]].to_numpy()
    removal = removal_effects(counts, j.base.to_numpy(), effect, kappa).sum(axis=0)
    truth = world.ground_truth.set_index("touchpoint").true_incremental_conversions
    for e, r in zip(EXPOSURES, removal, strict=True):
        assert truth[e.touchpoint] == pytest.approx(r, rel=1e-9)


def test_exposure_is_independent_of_base_propensity(big: SimulatedWorld) -> None:
    j = big.journeys
    n_total = j[[f"n_{e.touchpoint}" for e in EXPOSURES]].sum(axis=1)
    assert abs(np.corrcoef(j.base, n_total)[0, 1]) < 0.03


# --- write_parquet ---------------------------------------------------------------------------

def test_write_parquet_chunks_concatenate_to_the_same_world(tmp_path) -> None:
    files = write_parquet(tmp_path / "w", 2500, seed=5, chunk_customers=1000)
    assert [p.name for p in files["events"]] == [
        "events-00000.parquet", "events-00001.parquet", "events-00002.parquet"]
    same = simulate_retailer(2500, seed=5, chunk_customers=1000)
    for kind in ("events", "feedback", "identities", "costs"):
        table = pa.concat_tables([pq.read_table(p) for p in files[kind]])
        assert table.num_rows == getattr(same, kind).num_rows, kind
        assert table.equals(getattr(same, kind)), kind
    truth = pd.read_parquet(files["ground_truth"][0])
    pd.testing.assert_frame_equal(truth, same.ground_truth)
    assert files["params"][0].read_text(encoding="utf-8").startswith("{")


# --- arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"n_customers": 0}, {"n_customers": 10, "start": "yesterday"},
    {"n_customers": 10, "days": 1}, {"n_customers": 10, "seed": -1},
    {"n_customers": 10, "effects": {"no_such_touchpoint": 0.1}},
    {"n_customers": 10, "effects": {"search_ad": 1.5}},
])
def test_bad_arguments_raise_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        simulate_retailer(**kwargs)
