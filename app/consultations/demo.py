"""A demo consultation with illustrative votes, for local use by ``flask demo load``.

The votes are generated, not collected: the consultation's own text says so, and the
voters are seats without a participant behind them.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from app.consultations import analysis, services, voting
from app.consultations.models import (
    ConsultationStatus,
    PhaseKind,
    StatementModeration,
    Topic,
    Vote,
    Voter,
)
from app.extensions import db
from app.hubs.models import Hub
from app.surveys import services as survey_services
from app.timeutil import utcnow

SLUG = "screening-closer-to-home"
NOTE = {
    "en": "Demonstration content: the votes shown are illustrative, generated for this "
          "demo. They are not real opinions.",
    "de": "Demonstrationsinhalt: Die gezeigten Stimmen sind beispielhaft und für diese "
          "Demo erzeugt. Es sind keine echten Meinungen.",
    "fr": "Contenu de démonstration : les votes affichés sont illustratifs, générés pour "
          "cette démo. Ce ne sont pas de vraies opinions.",
    "pt": "Conteúdo de demonstração: os votos apresentados são ilustrativos, gerados para "
          "esta demonstração. Não são opiniões reais.",
    "ar": "محتوى تجريبي: الأصوات المعروضة توضيحية، أُنشئت لهذا العرض. وهي ليست آراء حقيقية.",
}
TEXTS = {
    "en": ("Bringing cancer screening closer to home",
           "How can breast, cervical and bowel screening reach people in rural areas, "
           "older people and people who do not speak the national language?"),
    "de": ("Krebsfrüherkennung näher an die Menschen bringen",
           "Wie erreicht die Früherkennung von Brust-, Gebärmutterhals- und Darmkrebs "
           "Menschen auf dem Land, ältere Menschen und Menschen, die die Landessprache "
           "nicht sprechen?"),
    "fr": ("Rapprocher le dépistage du cancer de chez vous",
           "Comment le dépistage des cancers du sein, du col de l'utérus et colorectal "
           "peut-il atteindre les habitants des zones rurales, les personnes âgées et celles "
           "qui ne parlent pas la langue nationale ?"),
    "pt": ("Aproximar o rastreio do cancro das pessoas",
           "Como pode o rastreio do cancro da mama, do colo do útero e colorretal chegar a "
           "quem vive em zonas rurais, às pessoas mais velhas e a quem não fala a língua "
           "nacional?"),
    "ar": ("تقريب فحوصات الكشف المبكر عن السرطان من الناس",
           "كيف يمكن أن تصل فحوصات الكشف المبكر عن سرطان الثدي وعنق الرحم والقولون إلى "
           "سكان الأرياف وكبار السن ومن لا يتحدثون اللغة الوطنية؟"),
}
STATEMENTS = [
    "Screening invitations should be sent in the language people speak at home.",
    "Mobile screening units should visit every rural town at least once a year.",
    "Travel costs to screening appointments should be paid back.",
    "Evening and weekend appointments would make screening easier for people who work.",
    "Family doctors should remind patients who have missed screening.",
    "Home testing kits for bowel cancer should be sent to everyone over 50 by post.",
    "I would rather get screening results by letter than through an app.",
    "Screening information should be made with community and religious groups.",
    "People with disabilities often cannot use screening equipment as it is today.",
    "Self-sampling for cervical screening should be offered to everyone.",
    "Screening programmes should publish how many people from each region take part.",
    "Text message reminders are enough; letters are a waste of money.",
]


def load_demo_consultation(hub: Hub) -> None:
    """Create the demo consultation once, with phases, statements and illustrative votes."""
    if services.get_by_slug(SLUG) is not None:
        return
    texts = [services.TextInput(lang, title, summary, NOTE[lang])
             for lang, (title, summary) in TEXTS.items()]
    consultation = services.create_consultation(
        slug=SLUG, hub=hub, country="PT", topic=Topic.EARLY_DETECTION, default_language="en",
        texts=texts)
    consultation.statement_moderation = StatementModeration.PRE
    today = utcnow().date()
    services.set_phases(consultation, [
        services.PhaseInput(PhaseKind.INFORMATION, today - timedelta(days=30),
                            today - timedelta(days=15), {}),
        services.PhaseInput(PhaseKind.DELIBERATION, today - timedelta(days=14),
                            today + timedelta(days=30), {}),
        services.PhaseInput(PhaseKind.FEEDBACK, today + timedelta(days=60),
                            today + timedelta(days=90), {}),
    ])
    survey = survey_services.get_survey("cancer-mission-consultation")
    if survey is not None:
        services.set_surveys(consultation, [survey])
    statements = [voting.add_statement(consultation, text, "en", seed=True)
                  for text in STATEMENTS]
    _illustrative_votes(consultation.id, statements, today)
    services.set_status(consultation, ConsultationStatus.OPEN)
    analysis.compute_snapshot(consultation.id)


def _illustrative_votes(consultation_id: int, statements, today: date) -> None:
    """Three made-up leanings with noise, so the results page has something to show."""
    rng = np.random.default_rng(2030)
    leanings = rng.choice([-1, 1], size=(3, len(statements)))
    leanings[:, :3] = 1  # some common ground
    for number in range(180):
        voter = Voter(consultation_id=consultation_id, number=number)
        db.session.add(voter)
        db.session.flush()
        group = number % 3
        for index, statement in enumerate(statements):
            if rng.random() < 0.2:
                continue
            draw = rng.random()
            value = int(leanings[group, index]) if draw < 0.75 else (0 if draw < 0.85 else
                                                                     -int(leanings[group,
                                                                                   index]))
            db.session.add(Vote(voter_id=voter.id, statement_id=statement.id, value=value))
