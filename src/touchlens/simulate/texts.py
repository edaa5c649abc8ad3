"""Survey and review comments in Polish and English, written to match the score's sentiment.

Topics follow DOMAIN.md (delivery, returns, staff, app, payment, price, product quality,
website, availability, communication). Polish texts sometimes lose their diacritics ("kurier
sie spoznil") the way people type on phones; some use negation ("nie polecam", "wcale nie
było źle", "not bad at all") so a sentiment model cannot rely on single words.
"""

from __future__ import annotations

import numpy as np

TOPICS = ("delivery", "returns", "staff", "app", "payment", "price", "product_quality",
          "website", "availability", "communication")
SENTIMENTS = ("negative", "neutral", "positive")

_T: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "delivery": {
        "pl": (("Kurier się spóźnił o {days} dni, nikt nie dał znać.",
                "Paczka przyszła z opóźnieniem, kurier się spóźnił i nie odbierał telefonu.",
                "Dostawa trwała za długo, czekałam ponad tydzień.",
                "Kurier zostawił paczkę pod drzwiami, karton był zgnieciony.",
                "Nie polecam tej firmy kurierskiej, znowu spóźnienie."),
               ("Dostawa w porządku, choć mogłaby być szybsza.", "Paczka dotarła, bez rewelacji."),
               ("Szybka dostawa, paczka była na drugi dzień.", "Kurier bardzo miły i punktualny.",
                "Wcale nie było źle, paczka dotarła na czas.",
                "Nie mam żadnych zastrzeżeń do dostawy.")),
        "en": (("The courier was {days} days late and nobody told me.",
                "Late delivery again, the parcel arrived a week after the promised date.",
                "The box was damaged and the courier just left it at the door.",
                "I would not recommend this delivery service."),
               ("Delivery was okay, could be faster.", "Parcel arrived, nothing special."),
               ("Fast delivery, the parcel arrived the next day.",
                "The courier was friendly and on time.",
                "Not bad at all, delivery was quicker than expected.")),
    },
    "returns": {
        "pl": (("Zwrot pieniędzy trwa już trzy tygodnie, to skandal.",
                "Zwrot towaru to koszmar, formularz zwrotu nie działa.",
                "Nie polecam, zwrot był bardzo skomplikowany."),
               ("Zwrot przyjęty, procedura standardowa.",),
               ("Zwrot przebiegł szybko i bez problemów.", "Pieniądze za zwrot wróciły w dwa dni.",
                "Nie było żadnego problemu ze zwrotem.")),
        "en": (("The refund has taken three weeks, unacceptable.",
                "Returning the item was a nightmare, the return form kept failing.",
                "I would not recommend them, the return process is a mess."),
               ("Return accepted, standard process.",),
               ("Easy return and a quick refund.", "The refund arrived within two days, great.")),
    },
    "staff": {
        "pl": (("Obsługa w sklepie była niemiła i opryskliwa.",
                "Kasjerka była nieuprzejma, nikt nie chciał pomóc.",
                "Długa kolejka do kasy i niemiła obsługa."),
               ("Obsługa poprawna, nic szczególnego.",),
               ("Bardzo pomocna obsługa, pani doradziła mi rozmiar.", "Miła i kompetentna obsługa.",
                "Sprzedawca był bardzo uprzejmy.")),
        "en": (("The staff were rude and unhelpful.",
                "The cashier was impolite and the queue was very long.",
                "Rude staff, I will not come back."),
               ("Staff were fine, nothing special.",),
               ("Very helpful staff, they found my size in the stockroom.",
                "Friendly and knowledgeable staff.")),
    },
    "app": {
        "pl": (("Aplikacja ciągle się zawiesza przy płatności.",
                "Aplikacja się wysypuje po aktualizacji, nie da się nic kupić.",
                "Apka crashuje co chwilę, masakra."),
               ("Aplikacja ok, ale mogłaby działać szybciej.",),
               ("Aplikacja działa świetnie, zakupy w kilka minut.",
                "Wygodna aplikacja, przymierzalnia AR jest super.")),
        "en": (("The app keeps crashing at checkout.",
                "The app crashed twice while I was paying, very frustrating."),
               ("The app is fine but a bit slow.",),
               ("The app is fast and easy to use.", "Love the app, the virtual try-on is great.")),
    },
    "payment": {
        "pl": (("Płatność BLIK nie przeszła, a pieniądze zeszły z konta.",
                "Nie udało się zapłacić kartą, trzy razy błąd płatności.",
                "Płatność odrzucona bez powodu."),
               ("Płatność działała, choć wybór metod jest mały.",),
               ("Płatność szybka i bezproblemowa.", "Wygodna płatność BLIKIEM.")),
        "en": (("Payment failed three times and I was still charged.",
                "My card payment was declined for no reason."),
               ("Payment worked, limited options though.",),
               ("Payment was quick and smooth.",)),
    },
    "price": {
        "pl": (("Za drogo, w innych sklepach taniej.", "Ceny poszły mocno w górę, nie opłaca się.",
                "Koszt dostawy jest za wysoki."),
               ("Ceny przeciętne.",),
               ("Dobre ceny i fajne promocje.", "Świetny stosunek jakości do ceny.")),
        "en": (("Too expensive, cheaper elsewhere.", "Shipping costs are far too high."),
               ("Prices are average.",),
               ("Great prices and good discounts.", "Good value for money.")),
    },
    "product_quality": {
        "pl": (("Produkt rozpruł się po tygodniu, słaba jakość.",
                "Jakość materiału bardzo słaba, nie polecam.", "Produkt niezgodny z opisem."),
               ("Produkt w porządku, nic specjalnego.",),
               ("Świetna jakość, polecam!", "Produkt zgodny z opisem, jestem bardzo zadowolona.",
                "Wcale nie było źle, jakość lepsza niż się spodziewałem.")),
        "en": (("Poor quality, it fell apart after a week.",
                "The product did not match the description."),
               ("The product is okay.",),
               ("Excellent quality, highly recommend!", "Exactly as described, very happy.",
                "Not bad at all, better quality than I expected.")),
    },
    "website": {
        "pl": (("Strona długo się ładuje i wyszukiwarka nie działa.",
                "Nie mogłam znaleźć tabeli rozmiarów na stronie."),
               ("Strona w porządku, choć trochę nieczytelna.",),
               ("Przejrzysta strona, łatwo znaleźć produkty.",)),
        "en": (("The website is slow and the search does not work.",),
               ("The website is fine, a bit cluttered.",),
               ("Clear website, easy to find what I need.",)),
    },
    "availability": {
        "pl": (("Produktu nie było w sklepie, choć strona pokazywała dostępność.",
                "Brak rozmiarów, znowu wszystko wyprzedane."),
               ("Większość rzeczy była dostępna.",),
               ("Wszystko było dostępne od ręki.",)),
        "en": (("The item was out of stock in the store although the website said it was there.",),
               ("Most items were in stock.",),
               ("Everything was in stock.",)),
    },
    "communication": {
        "pl": (("Czekałem 40 minut na połączenie z konsultantem.",
                "Nikt nie odpowiada na maile, brak kontaktu.",
                "Konsultant nie potrafił pomóc, odsyłali mnie od osoby do osoby."),
               ("Sprawa załatwiona, ale trwało to dość długo.",),
               ("Konsultantka szybko rozwiązała mój problem.", "Bardzo sprawny kontakt przez czat.",
                "Nie spodziewałem się tak szybkiej odpowiedzi, brawo.")),
        "en": (("I waited 40 minutes to reach an agent.",
                "Nobody answers emails, impossible to get help."),
               ("Issue resolved, but it took a while.",),
               ("The agent solved my problem in minutes.", "Quick and helpful chat support.")),
    },
}
_CLOSING = {
    "pl": (("Nie polecam.", "Ostatni raz tu kupuję."), ("",), ("Polecam!", "Na pewno wrócę.")),
    "en": (("Would not recommend.", "Never again."), ("",), ("Would recommend!",
                                                             "Will buy again.")),
}
_PLAIN = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def strip_diacritics(text: str) -> str:
    """"Kurier się spóźnił" → "Kurier sie spoznil"."""
    return text.translate(_PLAIN)


def compose(rng: np.random.Generator, topic: np.ndarray, polish: np.ndarray,
            sentiment: np.ndarray, days: np.ndarray) -> list[str]:
    """One comment per response: topic index, language, sentiment (0 neg, 1 neu, 2 pos)."""
    u = rng.random((4, len(topic)))
    out = []
    for i in range(len(topic)):
        lang = "pl" if polish[i] else "en"
        s = int(sentiment[i])
        choices = _T[TOPICS[topic[i]]][lang][s]
        text = choices[int(u[0, i] * len(choices))].format(days=int(days[i]))
        closing = _CLOSING[lang][s]
        if u[1, i] < 0.3 and closing[0]:
            text = f"{text} {closing[int(u[2, i] * len(closing))]}"
        if lang == "pl" and u[3, i] < 0.25:
            text = strip_diacritics(text)
        out.append(text)
    return out
