"""The demo world's parameters: marketing exposures with their true effects, and the knobs.

Every journey draws, for each marketing touchpoint ``tp`` it is eligible for, whether it is
reached (probability ``reach``) and then ``1 + Poisson(extra)`` contacts. Draws never look at
the journey's base propensity, so exposure is randomised. ``effect`` is the touchpoint's
maximal incremental lift and ``kappa`` its saturation scale (see :mod:`.ground_truth`).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

CATALOGUE_CSV = Path(__file__).resolve().parent.parent / "journeys" / "catalogue_builtin.csv"


@dataclass(frozen=True)
class Exposure:
    """A marketing touchpoint the simulator exposes journeys to at random.

    pattern: how one contact renders into events (``ad_cpc``: impression + click billed per
    click; ``ad_cpm``: impression billed per mille + click; ``email``: delivered/open/click;
    see :mod:`.events`). eligible: who can be reached (``all``, ``email``, ``sms``, ``app``,
    ``member``, ``first`` = first journey only, ``welcome`` = new subscribers' first journey).
    rate1/rate2: click-through / open rates of the pattern; price: PLN per billed unit.
    """

    touchpoint: str
    effect: float
    kappa: float
    reach: float
    extra: float
    pattern: str
    eligible: str = "all"
    rate1: float = 0.0
    rate2: float = 0.0
    price: float = 0.0
    campaigns: tuple[str, ...] = ()


EXPOSURES: tuple[Exposure, ...] = (
    Exposure("display_banner", 0.02, 3.0, 0.45, 2.0, "ad_cpm", rate1=0.004, price=9.0,
             campaigns=("display_spring", "display_brand")),
    Exposure("retargeting_banner", 0.04, 2.0, 0.20, 1.5, "ad_cpc", rate1=0.012, price=0.9,
             campaigns=("retargeting_dynamic",)),
    Exposure("social_ad", 0.03, 2.0, 0.40, 1.5, "ad_cpc", rate1=0.012, price=1.2,
             campaigns=("social_spring", "social_video")),
    Exposure("social_post_organic", 0.0, 2.0, 0.35, 1.5, "social", rate1=0.04),
    Exposure("influencer_post", 0.03, 1.5, 0.15, 0.5, "ad_cpm", rate1=0.015, price=25.0,
             campaigns=("influencer_haul",)),
    Exposure("search_ad", 0.10, 1.0, 0.30, 0.8, "ad_cpc", rate1=0.07, price=1.8,
             campaigns=("search_brand", "search_generic")),
    Exposure("organic_search_result", 0.05, 1.0, 0.30, 0.6, "click"),
    Exposure("ai_answer", 0.05, 1.0, 0.12, 0.4, "ai", rate1=0.3),
    Exposure("product_review", 0.06, 1.5, 0.25, 0.8, "read"),
    Exposure("print_catalogue", 0.02, 1.0, 0.20, 0.0, "print", eligible="member", price=2.8,
             campaigns=("catalogue_spring",)),
    Exposure("event_popup", 0.04, 1.0, 0.03, 0.0, "popup", eligible="member", price=15.0,
             campaigns=("popup_mall",)),
    Exposure("live_shopping", 0.02, 1.0, 0.04, 0.3, "live"),
    Exposure("video_consultation", 0.12, 1.0, 0.02, 0.0, "video"),
    Exposure("chatbot", 0.02, 1.0, 0.08, 0.3, "chatbot"),
    Exposure("abandoned_cart_email", 0.08, 1.0, 0.10, 0.2, "email", eligible="email",
             rate1=0.45, rate2=0.25, campaigns=("cart_reminder",)),
    Exposure("welcome_email", 0.02, 1.5, 1.0, 1.0, "email", eligible="welcome",
             rate1=0.6, rate2=0.2, campaigns=("welcome_series",)),
    Exposure("newsletter", 0.03, 3.0, 0.70, 2.0, "email", eligible="email",
             rate1=0.25, rate2=0.12, campaigns=("newsletter_weekly", "newsletter_sale")),
    Exposure("sms_promo", 0.04, 1.0, 0.25, 0.3, "sms", eligible="sms", rate1=0.06,
             campaigns=("sms_flash_sale",)),
    Exposure("push_notification", 0.02, 2.0, 0.50, 1.5, "push", eligible="app", rate1=0.10,
             campaigns=("push_daily_deal",)),
    Exposure("loyalty_programme", 0.06, 1.5, 0.50, 0.5, "loyalty", eligible="member"),
    Exposure("referral_programme", 0.08, 1.0, 0.04, 0.0, "click", eligible="first",
             campaigns=("refer_a_friend",)),
)

# Touches that follow from the purchase decision (navigation, transaction) or from an order
# (service, advocacy). They carry no causal effect: true_effect = 0.
FUNNEL = ("direct_visit", "homepage", "product_page", "cart", "checkout", "app_home",
          "virtual_tryon", "app_checkout", "store_visit", "store_cashier")
SERVICE = ("delivery_courier", "packaging", "post_purchase_survey", "review_request_email",
           "support_chat", "call_center", "return_portal")
ADVOCACY = ("customer_review", "social_mention")
CONVERSION_EVENT = "purchase"


@dataclass(frozen=True)
class WorldParams:
    """Scalar knobs of the demo world (probabilities per person, journey or order)."""

    base_alpha: float = 1.6  # base propensity per journey ~ Beta(alpha, beta), mean ≈ 0.07
    base_beta: float = 21.0
    journey_days_shape: float = 1.5  # journey length = 1 + Gamma(shape, scale) days, ≤ 28
    journey_days_scale: float = 6.0
    journey_days_max: float = 28.0
    max_journeys: int = 8
    p_email: float = 0.70  # newsletter consent
    p_phone: float = 0.60
    p_app: float = 0.35
    p_member: float = 0.45  # loyalty card
    p_mobile_web: float = 0.50  # also browses on a phone (second cookie)
    p_chain: float = 0.50  # of mobile-web email subscribers: identified only via the ESP key
    p_card_registered: float = 0.70  # loyalty card registered in the e-shop account
    p_cookie_mapped: float = 0.5  # cookie → account rows from a CDP (1.0: every cookie linkable)
    p_new_subscriber: float = 0.15
    browse_web: float = 0.7  # browse sessions per journey (Poisson means)
    browse_app: float = 0.5
    browse_store: float = 0.15
    p_login_browse: float = 0.6
    p_cart_browse: float = 0.35
    p_checkout_given_cart: float = 0.3
    mode_weights: tuple[float, float, float] = (0.55, 0.20, 0.25)  # web, app, store
    revenue_median: float = 180.0
    revenue_sigma: float = 0.6
    p_late: float = 0.15
    p_survey: float = 0.35
    p_delivery_rating: float = 0.30
    p_store_rating: float = 0.30
    p_review_request: float = 0.60
    p_chat: float = 0.06
    p_chat_late: float = 0.35
    p_call: float = 0.04
    p_call_late: float = 0.15
    p_return: float = 0.07
    p_polish: float = 0.60
    p_text: float = 0.65
    exposures: tuple[Exposure, ...] = field(default=EXPOSURES)

    def as_dict(self) -> dict:
        """JSON-friendly copy (exposures as a list of dicts)."""
        out = asdict(self)
        out["exposures"] = [asdict(e) for e in self.exposures]
        return out


@cache
def catalogue_rows() -> dict[str, dict[str, str]]:
    """The built-in catalogue, keyed by touchpoint."""
    with CATALOGUE_CSV.open(encoding="utf-8", newline="") as fh:
        return {row["touchpoint"]: row for row in csv.DictReader(fh)}


def channel_of(touchpoint: str) -> str:
    """Channel of a catalogue touchpoint."""
    return catalogue_rows()[touchpoint]["channel"]
