"""GA4 event names and pages → touchlens event types and touchpoints (tables, no I/O).

:data:`EVENT_MAP` covers GA4's automatically collected, enhanced-measurement and recommended
(e-commerce) events. A name not in it becomes ``event_type = "other"``; its touchpoint comes
from the page, and the original name is always kept in ``attributes.event_name``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# GA4 event_name → (touchlens event_type, touchpoint or None = "from the page")
EVENT_MAP: dict[str, tuple[str, str | None]] = {
    "session_start": ("visit", None),
    "first_visit": ("other", None),  # a marker on the session's first event, not another touch
    "first_open": ("app_open", "app_home"),
    "app_open": ("app_open", "app_home"),
    "page_view": ("page_view", None),
    "screen_view": ("page_view", None),
    "user_engagement": ("engagement", None),
    "scroll": ("engagement", None),
    "click": ("click", None),  # enhanced measurement: outbound link click
    "file_download": ("engagement", None),
    "form_start": ("engagement", None),
    "form_submit": ("engagement", None),
    "video_start": ("engagement", None),
    "video_progress": ("engagement", None),
    "video_complete": ("engagement", None),
    "share": ("engagement", None),
    "search": ("page_view", "site_search"),
    "view_search_results": ("page_view", "site_search"),
    "view_item_list": ("page_view", "category_page"),
    "select_item": ("click", "category_page"),
    "view_item": ("page_view", "product_page"),
    "add_to_wishlist": ("engagement", "product_page"),
    "view_promotion": ("impression", "onsite_promotion"),
    "select_promotion": ("click", "onsite_promotion"),
    "add_to_cart": ("add_to_cart", "cart"),
    "remove_from_cart": ("other", "cart"),
    "view_cart": ("page_view", "cart"),
    "begin_checkout": ("checkout", "checkout"),
    "add_shipping_info": ("checkout", "checkout"),
    "add_payment_info": ("checkout", "checkout"),
    "purchase": ("purchase", "checkout"),
    "in_app_purchase": ("purchase", "app_checkout"),
    "refund": ("return", "return_portal"),
    "sign_up": ("signup", "signup_form"),
    "generate_lead": ("signup", "lead_form"),  # a lead is the sign-up kind of conversion
    "login": ("other", "account_page"),
    "notification_open": ("open", "push_notification"),
    "notification_receive": ("delivered", "push_notification"),
}
REVENUE_EVENTS = frozenset({"purchase", "in_app_purchase", "refund"})
APP_PLATFORMS = frozenset({"ANDROID", "IOS"})

# path pattern → touchpoint, first match wins (English and Polish shop URLs)
PAGE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), t) for p, t in (
        (r"^/?(index\.\w+)?$", "homepage"),
        (r"/(cart|basket|bag|koszyk)(/|$|\.)", "cart"),
        (r"/(checkout|kasa|zamowienie|platnosc|payment)(/|$|\.)", "checkout"),
        (r"/(search|szukaj|wyszukiwanie)(/|$|\.)", "site_search"),
        (r"/(product|products|produkt|p|item|dp)/", "product_page"),
        (r"/(category|categories|kategoria|kategorie|c|collections?)/", "category_page"),
        (r"/(blog|poradnik|poradniki|article|artykul|inspiracje)(/|$)", "blog_article"),
        (r"/(returns?|zwrot|zwroty)(/|$|\.)", "return_portal"),
        (r"/(contact|kontakt|help|pomoc|faq|support)(/|$|\.)", "help_page"),
        (r"/(account|konto|login|logowanie|register|rejestracja)(/|$|\.)", "account_page"),
    )
)
_CHECKOUT_TOUCHPOINTS = frozenset({"cart", "checkout"})


def page_touchpoint(page_location: str | None) -> str | None:
    """Touchpoint of a web page from its URL path; ``?q=`` means site search."""
    if not page_location:
        return None
    parts = urlsplit(page_location if "://" in page_location else "https://x" + page_location)
    if re.search(r"(^|&)(q|query|search|szukaj)=", parts.query or ""):
        return "site_search"
    for pattern, touchpoint in PAGE_RULES:
        if pattern.search(parts.path or "/"):
            return touchpoint
    return "web_page"


def event_touchpoint(event_name: str, platform: str | None,
                     page_location: str | None) -> tuple[str, str]:
    """(event_type, touchpoint) of a GA4 event that is not an arrival touch."""
    event_type, touchpoint = EVENT_MAP.get(event_name, ("other", None))
    app = (platform or "").upper() in APP_PLATFORMS
    if app:
        if touchpoint in _CHECKOUT_TOUCHPOINTS or event_type == "purchase":
            return event_type, "app_checkout"
        return event_type, touchpoint or "app_screen"
    return event_type, touchpoint or page_touchpoint(page_location) or "web_page"
