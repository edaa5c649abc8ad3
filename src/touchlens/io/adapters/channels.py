"""Channel from traffic source: GA4's default channel grouping, plus an AI-assistant channel.

:func:`channel_group` applies Google Analytics 4's default channel group rules
(support.google.com/analytics/answer/9756891), first match wins, case-insensitive:

====  ====================  ==============================================================
 #    group                 rule
====  ====================  ==============================================================
 1    Direct                source = ``(direct)`` and medium ∈ {``(none)``, ``(not set)``, empty}
 2    Cross-network         campaign contains ``cross-network``
 3    Paid Shopping         (shopping source or shopping campaign) and paid medium
 4    Paid Search           search source and paid medium
 5    Paid Social           social source and paid medium
 6    Paid Video            video source and paid medium
 7    Display               medium ∈ {display, banner, expandable, interstitial, cpm}
 8    Paid Other            paid medium
 9*   AI Assistant          AI-assistant source (touchlens addition, see below)
 10   Organic Shopping      shopping source or shopping campaign
 11   Organic Social        social source or medium ∈ {social, social-network, social-media,
                            sm, social network, social media}
 12   Organic Video         video source or medium contains ``video``
 13   Organic Search        search source or medium = ``organic``
 14   Email                 source or medium ∈ {email, e-mail, e_mail, e mail}
 15   Affiliates            medium = ``affiliate``
 16   Referral              medium ∈ {referral, app, link}
 17   Audio                 medium = ``audio``
 18   SMS                   source or medium = ``sms``
 19   Mobile Push           medium ends with ``push`` or contains ``mobile``/``notification``,
                            or source = ``firebase``
 —    Unassigned            nothing matched
====  ====================  ==============================================================

Paid medium: ``^(.*cp.*|ppc|retargeting|paid.*)$``; shopping campaign:
``^(.*(([^a-df-z]|^)shop|shopping).*)$``. GA4 matches sources against internal lists of
search, social, video and shopping sites; ours are the common subsets below (plus Polish
sites), matched on the whole source or on its first host label ("google.pl" → ``google``;
``www.``, ``m.``, ``l.`` and ``lm.`` prefixes are dropped).

GA4 has no AI channel: it files chatgpt.com, perplexity.ai and the like under Referral.
touchlens adds **AI Assistant** (rule 9*, after the paid rules so that paid placements stay
paid): sources in :data:`AI_SOURCES` → channel ``ai_assistant``, touchpoint ``ai_answer``.
Traffic from Google's AI Overviews arrives as ordinary ``google / organic`` and cannot be told
apart.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

AI_SOURCES = frozenset({
    "chatgpt", "chat.openai.com", "openai", "perplexity", "gemini", "bard.google.com",
    "copilot", "copilot.microsoft.com", "claude", "you.com", "phind", "poe", "deepseek",
    "chat.deepseek.com", "meta.ai", "grok", "chat.mistral.ai", "mistral",
})
SEARCH_SOURCES = frozenset({
    "google", "bing", "yahoo", "search.yahoo.com", "baidu", "duckduckgo", "yandex", "ecosia",
    "naver", "seznam", "qwant", "startpage", "ask", "aol", "search.aol.com", "brave",
    "search.brave.com", "sogou", "so.com", "onet", "szukaj.onet.pl", "szukaj.wp.pl",
    "szukaj.interia.pl", "msn", "daum", "dogpile", "avg", "search.avg.com",
})
SOCIAL_SOURCES = frozenset({
    "facebook", "fb", "instagram", "ig", "linkedin", "lnkd.in", "twitter", "t.co", "x.com",
    "tiktok", "pinterest", "reddit", "snapchat", "whatsapp", "telegram", "messenger",
    "wykop", "nk", "vk", "tumblr", "quora", "threads", "threads.net", "bsky.app", "discord",
    "mastodon", "social",
})
VIDEO_SOURCES = frozenset({
    "youtube", "youtu.be", "vimeo", "twitch", "dailymotion", "cda", "wistia",
})
SHOPPING_SOURCES = frozenset({
    "shopping.google.com", "amazon", "ebay", "etsy", "walmart", "aliexpress", "shopify",
    "igshopping", "allegro", "ceneo", "skapiec", "temu", "shopee", "mercadolibre",
})
# Payment pages send shoppers back to the shop: a referrer, not a traffic source.
PAYMENT_HOSTS = frozenset({
    "paypal", "payu", "secure.payu.com", "przelewy24", "tpay", "checkout.stripe.com",
    "stripe", "adyen", "paynow", "blik", "dotpay", "klarna",
})

_PAID = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOP_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_SOCIAL_MEDIA = frozenset({"social", "social-network", "social-media", "sm", "social network",
                           "social media"})
_EMAIL = frozenset({"email", "e-mail", "e_mail", "e mail"})
_DISPLAY = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_PREFIXES = ("www.", "m.", "l.", "lm.", "mobile.")

# GA4 group → (touchlens channel, touchpoint of the arrival touch)
GROUPS: dict[str, tuple[str, str]] = {
    "Direct": ("direct", "direct_visit"),
    "Cross-network": ("cross_network", "cross_network_ad"),
    "Paid Shopping": ("paid_shopping", "shopping_ad"),
    "Paid Search": ("paid_search", "search_ad"),
    "Paid Social": ("social_paid", "social_ad"),
    "Paid Video": ("paid_video", "video_ad"),
    "Display": ("display", "display_banner"),
    "Paid Other": ("paid_other", "paid_other_ad"),
    "AI Assistant": ("ai_assistant", "ai_answer"),
    "Organic Shopping": ("organic_shopping", "shopping_listing"),
    "Organic Social": ("social_organic", "social_post_organic"),
    "Organic Video": ("organic_video", "video_organic"),
    "Organic Search": ("organic_search", "organic_search_result"),
    "Email": ("email", "email_campaign"),
    "Affiliates": ("affiliate", "affiliate_link"),
    "Referral": ("referral", "referral_link"),
    "Audio": ("audio", "audio_ad"),
    "SMS": ("sms", "sms_link"),
    "Mobile Push Notifications": ("push", "push_notification"),
    "Unassigned": ("unassigned", "unassigned"),
}


def _lower(value: object) -> str:
    """A source/medium/campaign as lower-case text (exports may hold numbers or nulls)."""
    return "" if value is None else str(value).strip().lower()


def source_host(value: str | None) -> str:
    """A source or URL reduced to its host without ``www.``-like prefixes, lower case."""
    text = _lower(value)
    if "://" in text:
        text = urlsplit(text).hostname or ""
    elif "/" in text and "." in text.split("/", 1)[0]:
        text = text.split("/", 1)[0]
    for prefix in _PREFIXES:
        if text.startswith(prefix) and text.count(".") >= 2:
            text = text[len(prefix):]
    return text


def in_list(source: str | None, names: frozenset[str]) -> bool:
    """True when the source (a name like ``google`` or a host like ``l.facebook.com``) is one
    of ``names``, whole or by its first host label."""
    host = source_host(source)
    if not host:
        return False
    return host in names or host.split(".", 1)[0] in names


def is_ai_source(source: str | None) -> bool:
    """True for AI-assistant sources: ``chatgpt.com``, ``perplexity``, ``gemini.google.com``…"""
    return in_list(source, AI_SOURCES)


def channel_group(source: str | None, medium: str | None, campaign: str | None = None) -> str:
    """The GA4 default channel group (plus ``AI Assistant``) of one source / medium / campaign."""
    src, med, camp = (_lower(v) for v in (source, medium, campaign))
    if src in ("(direct)", "direct") and med in ("(none)", "(not set)", "none", ""):
        return "Direct"
    if "cross-network" in camp:
        return "Cross-network"
    paid = bool(_PAID.match(med))
    shopping = in_list(src, SHOPPING_SOURCES) or bool(_SHOP_CAMPAIGN.match(camp))
    search, social = in_list(src, SEARCH_SOURCES), in_list(src, SOCIAL_SOURCES)
    video = in_list(src, VIDEO_SOURCES)
    if paid:
        for hit, group in ((shopping, "Paid Shopping"), (search, "Paid Search"),
                           (social, "Paid Social"), (video, "Paid Video")):
            if hit:
                return group
    if med in _DISPLAY:
        return "Display"
    if paid:
        return "Paid Other"
    if is_ai_source(src):
        return "AI Assistant"
    if shopping:
        return "Organic Shopping"
    if social or med in _SOCIAL_MEDIA:
        return "Organic Social"
    if video or "video" in med:
        return "Organic Video"
    if search or med == "organic":
        return "Organic Search"
    if src in _EMAIL or med in _EMAIL:
        return "Email"
    if med in ("affiliate", "affiliates"):
        return "Affiliates"
    if med in ("referral", "app", "link"):
        return "Referral"
    if med == "audio":
        return "Audio"
    if "sms" in (src, med):
        return "SMS"
    if med.endswith("push") or "mobile" in med or "notification" in med or src == "firebase":
        return "Mobile Push Notifications"
    return "Unassigned"


def channel_of(source: str | None, medium: str | None,
               campaign: str | None = None) -> tuple[str, str, str]:
    """(GA4 group, touchlens channel, touchpoint) of a traffic source."""
    group = channel_group(source, medium, campaign)
    channel, touchpoint = GROUPS[group]
    return group, channel, touchpoint
