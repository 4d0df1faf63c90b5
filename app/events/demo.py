"""A demo transnational event for ``flask demo load``: three countries, three languages."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from app.events import services
from app.events.models import EventStatus, SessionMode
from app.hubs.models import Hub
from app.timeutil import utcnow

SLUG = "living-well-after-cancer-panel"
TEXTS = {
    "en": ("Citizens' panel: living well after cancer",
           "Work, money, care and everyday life after cancer treatment. One day of "
           "discussion in Stockholm, Vienna and Lisbon, with an online link for those who "
           "cannot travel. Demonstration event."),
    "de": ("Bürgerrat: Gut leben nach Krebs",
           "Arbeit, Geld, Pflege und Alltag nach einer Krebsbehandlung. Ein Tag Gespräch "
           "in Stockholm, Wien und Lissabon. Demonstrationsveranstaltung."),
    "fr": ("Panel citoyen : bien vivre après un cancer",
           "Travail, argent, soins et vie quotidienne après un traitement. Une journée "
           "de discussion à Stockholm, Vienne et Lisbonne. Événement de démonstration."),
    "pt": ("Painel de cidadãos: viver bem depois do cancro",
           "Trabalho, dinheiro, cuidados e vida diária depois do tratamento. Um dia de "
           "conversa em Estocolmo, Viena e Lisboa. Evento de demonstração."),
    "ar": ("لجنة المواطنين: العيش بشكل جيد بعد السرطان",
           "العمل والمال والرعاية والحياة اليومية بعد علاج السرطان. يوم نقاش في ستوكهولم "
           "وفيينا ولشبونة. فعالية تجريبية."),
}
SESSIONS = [
    ("SE", "Stadsbiblioteket, Sveavägen 73, Stockholm", "Europe/Stockholm", ["sv"], ["en"]),
    ("AT", "Rathaus, Friedrich-Schmidt-Platz 1, Wien", "Europe/Vienna", ["de"], ["ar"]),
    ("PT", "Biblioteca de Marvila, Rua António Luís Gomes, Lisboa", "Europe/Lisbon", ["pt"],
     ["en"]),
]


def load_demo_event(hub: Hub) -> None:
    if services.get_by_slug(SLUG) is not None:
        return
    event = services.create_event(
        slug=SLUG, hub=hub, default_language="en",
        texts=[services.TextInput(lang, title, summary) for lang, (title, summary)
               in TEXTS.items()])
    from app.consultations.demo import SLUG as CONSULTATION
    from app.consultations.services import get_by_slug

    linked = get_by_slug(CONSULTATION)
    event.consultation_id = linked.id if linked else None
    event.accessibility = ["step_free", "hearing_loop", "childcare", "travel_reimbursement"]
    day = (utcnow() + timedelta(days=60)).date()
    for index, (country, venue, zone, languages, interpretation) in enumerate(SESSIONS):
        services.save_session(event, services.SessionInput(
            country=country, venue=venue, online_url="https://meet.example.org/echos-demo",
            mode=SessionMode.HYBRID, languages=languages, interpretation=interpretation,
            local_start=datetime.combine(day + timedelta(days=7 * index), time(10)),
            local_end=datetime.combine(day + timedelta(days=7 * index), time(16)),
            timezone=zone, capacity=30))
    event.status = EventStatus.PUBLISHED
