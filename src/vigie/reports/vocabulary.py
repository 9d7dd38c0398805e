"""The stable codes of the report vocabulary, with French and English labels.

Partners build their forms from GET /v1/indicators, which serves these tables.
Source: the domain vocabulary (shared/vocabulary.md); the service does not read that file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    code: str
    context: str  # stay | flight | any
    strong: bool
    fr: str
    en: str


@dataclass(frozen=True)
class Label:
    code: str
    fr: str
    en: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "restricted_movement",
        "any",
        True,
        "Personnes qui ne peuvent pas sortir ou circuler librement",
        "People who cannot come and go freely",
    ),
    Indicator(
        "identity_documents_withheld",
        "any",
        True,
        "Papiers d'identité détenus par quelqu'un d'autre",
        "Identity documents held by someone else",
    ),
    Indicator(
        "signs_of_violence",
        "any",
        True,
        "Blessures, peur, malnutrition ou épuisement visibles",
        "Visible injuries, fear, malnutrition or exhaustion",
    ),
    Indicator(
        "threats_or_intimidation",
        "any",
        True,
        "Menaces ou intimidation observées",
        "Threats or intimidation observed",
    ),
    Indicator(
        "debt_bondage",
        "any",
        True,
        "Dette envers un tiers qui empêche de partir",
        "Debt to a third party that prevents leaving",
    ),
    Indicator(
        "controlled_by_third_party",
        "any",
        True,
        "Personne surveillée, qui ne parle pas pour elle-même",
        "Person watched by someone, does not speak for themselves",
    ),
    Indicator(
        "minor_with_unrelated_adult",
        "any",
        True,
        "Mineur avec un adulte qui n'est pas son parent ou tuteur",
        "Minor with an adult who is not their parent or guardian",
    ),
    Indicator(
        "minor_unaccompanied",
        "any",
        True,
        "Mineur seul, sans adulte responsable",
        "Minor alone, with no responsible adult",
    ),
    Indicator(
        "forced_begging_or_theft",
        "any",
        True,
        "Personnes envoyées mendier ou voler",
        "People sent out to beg or steal",
    ),
    Indicator(
        "deception_about_work",
        "any",
        False,
        "Tromperie sur l'emploi promis ou les conditions",
        "Deceived about the promised job or conditions",
    ),
    Indicator(
        "isolation",
        "any",
        False,
        "Isolement : pas de contact avec l'extérieur, ne parle pas la langue",
        "Isolation: no outside contact, does not speak the language",
    ),
    Indicator(
        "wages_withheld",
        "any",
        False,
        "Salaire retenu ou jamais versé",
        "Wages withheld or never paid",
    ),
    Indicator(
        "excessive_working_hours",
        "any",
        False,
        "Horaires de travail excessifs",
        "Excessive working hours",
    ),
    Indicator(
        "abusive_living_conditions",
        "any",
        False,
        "Conditions de vie indignes, logement surpeuplé",
        "Degrading living conditions, overcrowded housing",
    ),
    Indicator(
        "more_occupants_than_booked",
        "stay",
        False,
        "Plus d'occupants que prévu par la réservation ou la capacité",
        "More occupants than booked or than the listing holds",
    ),
    Indicator(
        "frequent_visitors",
        "stay",
        False,
        "Allées et venues fréquentes, à toute heure",
        "Frequent visitors at all hours",
    ),
    Indicator(
        "booked_by_absent_third_party",
        "stay",
        False,
        "Réservation payée par une personne qui ne séjourne pas",
        "Booked and paid by someone who does not stay",
    ),
    Indicator(
        "cash_or_prepaid_payment",
        "stay",
        False,
        "Paiement en espèces ou cartes prépayées, refus des moyens habituels",
        "Paid in cash or prepaid cards, usual means refused",
    ),
    Indicator(
        "long_stay_few_belongings",
        "stay",
        False,
        "Long séjour avec très peu d'effets personnels",
        "Long stay with very few belongings",
    ),
    Indicator(
        "refuses_cleaning_or_access",
        "stay",
        False,
        "Refus systématique du ménage ou de l'accès au logement",
        "Cleaning or access to the premises always refused",
    ),
    Indicator(
        "sexual_services_signs",
        "stay",
        False,
        "Indices de prestations sexuelles (annonces en ligne, matériel)",
        "Signs of sexual services (online ads, paraphernalia)",
    ),
    Indicator(
        "workers_housed_collectively",
        "stay",
        False,
        "Travailleurs logés à plusieurs, matelas au sol",
        "Workers housed together, mattresses on the floor",
    ),
    Indicator(
        "transported_to_work_in_groups",
        "stay",
        False,
        "Groupes conduits au travail et ramenés à heures fixes",
        "Groups driven to and from work at set hours",
    ),
    Indicator(
        "unusual_security_measures",
        "stay",
        False,
        "Verrous extérieurs, caméras, fenêtres occultées",
        "Outside locks, cameras, covered windows",
    ),
    Indicator(
        "documents_held_by_companion",
        "flight",
        True,
        "Un accompagnateur garde le passeport ou la carte d'embarquement",
        "A companion keeps the passport or boarding pass",
    ),
    Indicator(
        "companion_answers_for_passenger",
        "flight",
        True,
        "L'accompagnateur répond à la place du passager, limite ses contacts",
        "The companion answers for the passenger, limits their contacts",
    ),
    Indicator(
        "unsure_of_destination",
        "flight",
        False,
        "Ne connaît pas sa destination, récit incohérent ou appris par cœur",
        "Does not know the destination; inconsistent or rehearsed story",
    ),
    Indicator(
        "fearful_of_authorities",
        "flight",
        False,
        "Peur, évite le regard, craint les uniformes",
        "Fearful, avoids eye contact, afraid of uniforms",
    ),
    Indicator(
        "last_minute_ticket_paid_by_other",
        "flight",
        False,
        "Billet de dernière minute payé en espèces ou par un tiers",
        "Last-minute ticket paid in cash or by someone else",
    ),
    Indicator(
        "vague_job_offer_abroad",
        "flight",
        False,
        "Évoque une offre d'emploi vague à l'étranger",
        "Mentions a vague job offer abroad",
    ),
    Indicator(
        "seated_apart_but_watched",
        "flight",
        False,
        "Assis à l'écart de l'accompagnateur mais surveillé",
        "Seated apart from the companion but watched",
    ),
)

EXPLOITATION: tuple[Label, ...] = (
    Label("sexual", "Exploitation sexuelle", "Sexual exploitation"),
    Label("labour", "Exploitation par le travail", "Labour exploitation"),
    Label("domestic_servitude", "Servitude domestique", "Domestic servitude"),
    Label("forced_criminality", "Contrainte à commettre des délits", "Forced criminality"),
    Label("forced_begging", "Mendicité forcée", "Forced begging"),
    Label("other", "Autre forme", "Other form"),
    Label("unknown", "Je ne sais pas", "Don't know"),
)

REPORTER_ROLES: tuple[Label, ...] = (
    Label("host", "Hôte", "Host"),
    Label("platform_staff", "Personnel de la plateforme", "Platform staff"),
    Label("hotel_staff", "Personnel hôtelier", "Hotel staff"),
    Label("cleaning_staff", "Personnel de ménage", "Cleaning staff"),
    Label("neighbour", "Voisin ou voisine", "Neighbour"),
    Label("guest", "Voyageur ou voyageuse", "Guest"),
    Label("cabin_crew", "Personnel navigant", "Cabin crew"),
    Label("ground_staff", "Personnel au sol", "Ground staff"),
    Label("other", "Autre", "Other"),
)

CONTEXTS = ("stay", "flight", "other")
INDICATOR_BY_CODE = {i.code: i for i in INDICATORS}
INDICATOR_CODES = tuple(INDICATOR_BY_CODE)
EXPLOITATION_CODES = tuple(e.code for e in EXPLOITATION)
REPORTER_ROLE_CODES = tuple(r.code for r in REPORTER_ROLES)
STRONG_INDICATORS = frozenset(i.code for i in INDICATORS if i.strong)
MINOR_INDICATORS = frozenset(code for code in INDICATOR_CODES if code.startswith("minor_"))

# Départements: metropolitan 01-95 (with Corsica as 2A/2B instead of 20) and overseas 971-976.
DEPARTMENTS = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"] + [str(n) for n in range(971, 977)]
)


def department_for_postcode(postcode: str) -> str | None:
    """The département a French postcode belongs to, or None if it maps to none."""
    if len(postcode) != 5 or not postcode.isdigit():
        return None
    if postcode.startswith("20"):
        return "2A" if int(postcode) < 20200 else "2B"
    code = postcode[:3] if postcode.startswith("97") else postcode[:2]
    return code if code in DEPARTMENTS else None
