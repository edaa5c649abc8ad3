"""Rules that classify a touchpoint the catalogue does not know, from its channel and events.

Such touchpoints are kept (never dropped) and flagged ``reviewed = False`` with
``source = "auto"`` until the user describes them in a touchpoints file.
"""

from __future__ import annotations

# channel → (stage, medium, control, cost_type, primary_metric)
CHANNEL_RULES: dict[str, tuple[str, str, str, str, str]] = {
    "paid_search": ("consideration", "digital", "direct", "paid", "CTR"),
    "organic_search": ("awareness", "digital", "indirect", "earned", "CTR"),
    "display": ("awareness", "digital", "direct", "paid", "CTR & reach"),
    "social_paid": ("awareness", "digital", "direct", "paid", "CTR & reach"),
    "social_organic": ("awareness", "digital", "direct", "owned", "engagement rate & reach"),
    "social": ("awareness", "digital", "direct", "owned", "engagement rate & reach"),
    "influencer": ("awareness", "digital", "indirect", "paid", "engagement rate & reach"),
    "affiliate": ("consideration", "digital", "indirect", "paid", "conversion rate"),
    "referral": ("consideration", "digital", "indirect", "earned", "conversion rate"),
    "reviews": ("consideration", "digital", "indirect", "earned", "rating & conversion impact"),
    "ai_assistant": ("consideration", "digital", "indirect", "earned",
                     "citation frequency & position"),
    "press": ("awareness", "physical", "indirect", "earned", "reach"),
    "web": ("consideration", "digital", "direct", "owned", "conversion rate"),
    "app": ("consideration", "digital", "direct", "owned", "conversion rate"),
    "email": ("retention", "digital", "direct", "owned", "open & click rate"),
    "sms": ("retention", "digital", "direct", "owned", "click rate"),
    "push": ("retention", "digital", "direct", "owned", "open rate"),
    "store": ("purchase", "physical", "direct", "owned", "sales & satisfaction"),
    "call_center": ("retention", "physical", "direct", "owned", "CSAT"),
    "chat": ("retention", "digital", "direct", "owned", "CSAT"),
    "delivery": ("retention", "physical", "direct", "owned", "CSAT"),
    "packaging": ("retention", "physical", "direct", "owned", "social shares"),
    "loyalty": ("retention", "digital", "direct", "owned", "CLV"),
    "print": ("awareness", "physical", "direct", "paid", "reach"),
    "direct_mail": ("awareness", "physical", "direct", "paid", "response rate"),
    "events": ("awareness", "physical", "direct", "paid", "attendance & leads"),
    "video": ("consideration", "virtual", "direct", "owned", "CSAT"),
    "tv": ("awareness", "physical", "direct", "paid", "reach"),
    "direct": ("consideration", "digital", "direct", "owned", "conversion rate"),
}
DEFAULT_RULE = ("consideration", "digital", "direct", "owned", "conversion rate")

# event types that say more about the stage than the channel does
EVENT_STAGE = {
    "purchase": "purchase", "checkout": "purchase", "add_to_cart": "purchase",
    "support_contact": "retention", "return": "retention", "survey": "retention",
    "review": "advocacy", "mention": "advocacy", "impression": "awareness",
}


def classify(channel: str | None, dominant_event_type: str | None) -> dict[str, str]:
    """Taxonomy guess for an unknown touchpoint (DOMAIN.md stage/medium/control/cost type)."""
    stage, medium, control, cost_type, metric = CHANNEL_RULES.get(channel or "", DEFAULT_RULE)
    stage = EVENT_STAGE.get(dominant_event_type or "", stage)
    return {"stage": stage, "medium": medium, "control": control, "cost_type": cost_type,
            "primary_metric": metric}
