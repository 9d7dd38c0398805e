"""What hosts read on the form's pages, in French and English.

Labels of codes (indicators, forms of exploitation, roles) come from `reports.vocabulary`;
this module holds the rest: page texts, field labels and hints, and one message per field
for a missing value and for a wrong one (the form names the rule, never a code).
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
# The roles a host-facing form offers (the others are for platforms and airlines).
HOST_ROLES = ("host", "cleaning_staff", "hotel_staff", "neighbour", "guest", "other")


def language(requested: str | None) -> str:
    """`fr` or `en`; anything else is the default, French."""
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class FieldText:
    label: str
    required: str = ""  # shown when the field is needed and empty
    invalid: str = ""  # shown when the value breaks the field's rule
    hint: str = ""
    optional: bool = False  # the label says "(facultatif)" / "(optional)"


PAGE: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Signaler une situation préoccupante",
        "intro": "Ce formulaire transmet votre signalement à la Mission interministérielle pour "
        "la protection des femmes contre les violences et la lutte contre la traite des êtres "
        "humains (MIPROF). Il vous est proposé par {partner}.",
        "urgent_title": "Danger immédiat ?",
        "urgent": "N'attendez pas : appelez le 17 (police, gendarmerie) ou le 112. "
        "Si vous ne pouvez pas parler, envoyez un SMS au 114.",
        "optional": "facultatif",
        "switch": "English",
        "switch_lang": "en",
        "errors_title": "Le formulaire contient des erreurs",
        "errors_intro": "Corrigez les champs ci-dessous, puis envoyez à nouveau.",
        "error_prefix": "Erreur :",
        "error_title_prefix": "Erreur : ",
        "expired": "Ce formulaire a été ouvert il y a trop longtemps. Vérifiez vos réponses, "
        "puis envoyez-le à nouveau.",
        "context_legend": "Où avez-vous fait ces observations ?",
        "context_hint": "Vous avez remarqué quelque chose à bord d'un avion ? Les équipages "
        "signalent par le canal de leur compagnie aérienne, pas par ce formulaire.",
        "when_legend": "Quand et où",
        "stay_legend": "Le séjour",
        "stay_hint": "À remplir si vos observations concernent un logement que vous louez, "
        "gérez ou entretenez.",
        "indicators_legend": "Ce que vous avez remarqué",
        "indicators_hint": "Cochez tout ce qui correspond, même si vous n'êtes pas sûr.",
        "indicators_any": "Chez les personnes",
        "indicators_stay": "Dans le logement ou autour",
        "exploitation_legend": "Selon vous, de quelle forme d'exploitation pourrait-il s'agir ?",
        "exploitation_hint": "Cochez « Je ne sais pas » si vous ne savez pas.",
        "persons_legend": "Les personnes concernées",
        "danger_legend": "Des personnes sont-elles en danger immédiat ?",
        "yes": "Oui",
        "no": "Non",
        "description_legend": "Ce que vous avez vu",
        "role_legend": "Vous êtes",
        "contact_legend": "Pouvons-nous vous recontacter ?",
        "contact_hint": "Facultatif. Vos coordonnées ne sont gardées que si vous cochez la "
        "case ; elles sont chiffrées et seules les équipes de la MIPROF les voient.",
        "submit": "Envoyer le signalement",
        "privacy": "Ne mettez pas vous-même les personnes en danger : n'intervenez pas, "
        "ne les photographiez pas. Vos réponses sont transmises à la MIPROF, pas à {partner}.",
        # confirmation
        "sent_title": "Signalement envoyé",
        "sent_lead": "Merci. Votre signalement a bien été reçu par la MIPROF.",
        "receipt": "Numéro de réception",
        "receipt_hint": "Notez-le : il identifie votre signalement si vous êtes recontacté.",
        "already_sent": "Ce formulaire avait déjà été envoyé : voici son numéro de réception.",
        "now_title": "À faire maintenant",
        "next_title": "Et ensuite ?",
        "next": "Une équipe de la MIPROF examine chaque signalement et oriente les personnes "
        "vers une protection adaptée. Vous ne recevrez pas de suivi de l'enquête, pour ne pas "
        "la compromettre.",
        "again": "Faire un autre signalement",
        # problems
        "not_found_title": "Formulaire introuvable",
        "not_found": "Aucun formulaire de signalement n'existe à cette adresse. Vérifiez le lien "
        "donné par votre plateforme.",
        "bad_token_title": "Le formulaire n'a pas pu être vérifié",
        "bad_token": "Votre envoi n'a pas été enregistré. Ouvrez le formulaire à nouveau, "
        "puis remplissez-le et envoyez-le.",
        "reopen": "Ouvrir le formulaire",
        "too_many_title": "Trop d'envois depuis votre connexion",
        "too_many": "Votre envoi n'a pas été enregistré. Réessayez dans {seconds} secondes.",
        "emergency_reminder": "En cas de danger immédiat, appelez le 17 ou le 112 "
        "(SMS au 114 si vous ne pouvez pas parler).",
        # button.js
        "button": "Signaler une situation de traite",
        "close": "Fermer",
        "dialog_title": "Formulaire de signalement",
    },
    "en": {
        "title": "Report a situation of concern",
        "intro": "This form sends your report to MIPROF, the French interministerial mission "
        "for the protection of women against violence and the fight against human "
        "trafficking. It is offered to you by {partner}.",
        "urgent_title": "Immediate danger?",
        "urgent": "Do not wait: call 17 (police) or 112. If you cannot speak, text 114.",
        "optional": "optional",
        "switch": "Français",
        "switch_lang": "fr",
        "errors_title": "There is a problem with the form",
        "errors_intro": "Correct the fields below, then send again.",
        "error_prefix": "Error:",
        "error_title_prefix": "Error: ",
        "expired": "This form was opened too long ago. Check your answers, then send it again.",
        "context_legend": "Where did you notice this?",
        "context_hint": "Noticed something on board a flight? Crews report through their "
        "airline's channel, not through this form.",
        "when_legend": "When and where",
        "stay_legend": "The stay",
        "stay_hint": "Fill this in if what you noticed concerns a place you let, manage or clean.",
        "indicators_legend": "What you noticed",
        "indicators_hint": "Tick everything that applies, even if you are not sure.",
        "indicators_any": "About the people",
        "indicators_stay": "At or around the premises",
        "exploitation_legend": "What form of exploitation might this be?",
        "exploitation_hint": "Tick “Don't know” if you don't know.",
        "persons_legend": "The people concerned",
        "danger_legend": "Is anyone in immediate danger?",
        "yes": "Yes",
        "no": "No",
        "description_legend": "What you saw",
        "role_legend": "You are",
        "contact_legend": "May we contact you?",
        "contact_hint": "Optional. Your details are kept only if you tick the box; they are "
        "encrypted and only MIPROF's teams see them.",
        "submit": "Send the report",
        "privacy": "Do not put the people at risk yourself: do not intervene, do not take "
        "photographs. Your answers go to MIPROF, not to {partner}.",
        "sent_title": "Report sent",
        "sent_lead": "Thank you. MIPROF has received your report.",
        "receipt": "Receipt number",
        "receipt_hint": "Note it down: it identifies your report if we contact you.",
        "already_sent": "This form had already been sent: here is its receipt number.",
        "now_title": "What to do now",
        "next_title": "What happens next?",
        "next": "A MIPROF team reviews every report and refers the people to suitable "
        "protection. You will not hear how the investigation goes, so as not to compromise it.",
        "again": "Make another report",
        "not_found_title": "Form not found",
        "not_found": "There is no report form at this address. Check the link your platform "
        "gave you.",
        "bad_token_title": "The form could not be verified",
        "bad_token": "Nothing was recorded. Open the form again, then fill it in and send it.",
        "reopen": "Open the form",
        "too_many_title": "Too many reports sent from your connection",
        "too_many": "Nothing was recorded. Try again in {seconds} seconds.",
        "emergency_reminder": "If anyone is in immediate danger, call 17 or 112 "
        "(text 114 if you cannot speak).",
        "button": "Report a trafficking situation",
        "close": "Close",
        "dialog_title": "Report form",
    },
}

CONTEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "stay": "Dans un logement que je loue, gère ou entretiens (location de vacances, gîte, "
        "chambre d'hôtes, hôtel)",
        "other": "Ailleurs (voisinage, rue, lieu de travail…)",
    },
    "en": {
        "stay": "At a place I let, manage or clean (holiday rental, gîte, B&B, hotel)",
        "other": "Elsewhere (neighbourhood, street, workplace…)",
    },
}

GENERAL_ERROR: dict[str, str] = {
    "fr": "Le formulaire n'a pas pu être enregistré tel quel ; vérifiez vos réponses.",
    "en": "The form could not be saved as it is; check your answers.",
}

FIELDS: dict[str, dict[str, FieldText]] = {
    "fr": {
        "context": FieldText(
            "Où avez-vous fait ces observations ?",
            required="Indiquez où vous avez fait ces observations.",
            invalid="Choisissez l'une des réponses proposées.",
        ),
        "observed_date": FieldText(
            "Date",
            hint="Le jour où vous avez fait ces observations.",
            required="Indiquez la date de vos observations.",
            invalid="Indiquez une date réelle, passée et postérieure à 2000 (jj/mm/aaaa).",
        ),
        "observed_time": FieldText(
            "Heure",
            hint="Heure de Paris, approximative si besoin.",
            required="Indiquez l'heure, même approximative.",
            invalid="Indiquez une heure sous la forme hh:mm, par exemple 22:40.",
        ),
        "postcode": FieldText(
            "Code postal",
            hint="Celui du lieu de vos observations, par exemple 13003.",
            required="Indiquez le code postal du lieu.",
            invalid="Indiquez un code postal français de 5 chiffres, par exemple 13003.",
        ),
        "commune": FieldText(
            "Commune",
            optional=True,
            invalid="Indiquez le nom de la commune en 120 caractères au plus.",
        ),
        "listing_reference": FieldText(
            "Référence ou nom du logement",
            hint="Tel qu'il apparaît sur votre annonce ou votre planning.",
            required="Indiquez la référence ou le nom du logement.",
            invalid="Indiquez une référence de 256 caractères au plus.",
        ),
        "booking_reference": FieldText(
            "Référence de la réservation",
            optional=True,
            invalid="Indiquez une référence de 256 caractères au plus.",
        ),
        "check_in": FieldText(
            "Date d'arrivée",
            required="Indiquez la date d'arrivée des occupants.",
            invalid="Indiquez une date réelle (jj/mm/aaaa).",
        ),
        "check_out": FieldText(
            "Date de départ",
            hint="Prévue ou effective.",
            required="Indiquez la date de départ, prévue ou effective.",
            invalid="La date de départ ne peut pas précéder la date d'arrivée.",
        ),
        "guest_count": FieldText(
            "Nombre de voyageurs prévu par la réservation",
            required="Indiquez le nombre de voyageurs de la réservation.",
            invalid="Indiquez un nombre entier entre 1 et 500.",
        ),
        "indicators": FieldText(
            "Ce que vous avez remarqué",
            required="Cochez au moins une observation.",
            invalid="Cochez des observations de la liste.",
        ),
        "exploitation": FieldText(
            "Forme d'exploitation",
            required="Cochez au moins une réponse, ou « Je ne sais pas ».",
            invalid="Cochez des réponses de la liste.",
        ),
        "persons_count": FieldText(
            "Nombre de personnes concernées",
            hint="Une estimation suffit.",
            required="Indiquez le nombre de personnes concernées, même estimé.",
            invalid="Indiquez un nombre entier entre 1 et 500.",
        ),
        "minors": FieldText(
            "Dont mineurs",
            optional=True,
            hint="Laissez vide si vous ne savez pas.",
            invalid="Indiquez un nombre entier entre 0 et le nombre de personnes concernées.",
        ),
        "danger": FieldText(
            "Des personnes sont-elles en danger immédiat ?",
            required="Répondez oui ou non.",
            invalid="Répondez oui ou non.",
        ),
        "description": FieldText(
            "Décrivez ce que vous avez vu ou entendu",
            optional=True,
            hint="Les faits, sans nom ni photo. 5 000 caractères au plus.",
            invalid="Écrivez 5 000 caractères au plus.",
        ),
        "reporter_role": FieldText(
            "Vous êtes",
            required="Indiquez qui vous êtes.",
            invalid="Choisissez l'une des réponses proposées.",
        ),
        "contact_consent": FieldText(
            "J'accepte que la MIPROF garde ces coordonnées pour me recontacter",
            invalid="Cochez cette case pour que nous gardions vos coordonnées, ou effacez-les.",
            required="Indiquez un téléphone ou une adresse e-mail, ou décochez la case.",
        ),
        "contact_name": FieldText(
            "Votre nom",
            optional=True,
            invalid="Indiquez un nom de 200 caractères au plus.",
        ),
        "contact_phone": FieldText(
            "Téléphone",
            optional=True,
            invalid="Indiquez un numéro de téléphone, par exemple 06 12 34 56 78.",
        ),
        "contact_email": FieldText(
            "Adresse e-mail",
            optional=True,
            invalid="Indiquez une adresse e-mail valide, par exemple nom@exemple.fr.",
        ),
    },
    "en": {
        "context": FieldText(
            "Where did you notice this?",
            required="Say where you noticed this.",
            invalid="Choose one of the answers offered.",
        ),
        "observed_date": FieldText(
            "Date",
            hint="The day you noticed this.",
            required="Enter the date of what you noticed.",
            invalid="Enter a real date, in the past and after 2000.",
        ),
        "observed_time": FieldText(
            "Time",
            hint="Paris time, approximate if need be.",
            required="Enter the time, even approximate.",
            invalid="Enter a time as hh:mm, for example 22:40.",
        ),
        "postcode": FieldText(
            "Postcode",
            hint="Of the place where you noticed this, for example 13003.",
            required="Enter the postcode of the place.",
            invalid="Enter a French postcode of 5 digits, for example 13003.",
        ),
        "commune": FieldText(
            "Town",
            optional=True,
            invalid="Enter the town's name in at most 120 characters.",
        ),
        "listing_reference": FieldText(
            "Listing reference or name",
            hint="As it appears in your listing or your bookings.",
            required="Enter the listing's reference or name.",
            invalid="Enter a reference of at most 256 characters.",
        ),
        "booking_reference": FieldText(
            "Booking reference",
            optional=True,
            invalid="Enter a reference of at most 256 characters.",
        ),
        "check_in": FieldText(
            "Check-in date",
            required="Enter the check-in date.",
            invalid="Enter a real date.",
        ),
        "check_out": FieldText(
            "Check-out date",
            hint="Planned or actual.",
            required="Enter the check-out date, planned or actual.",
            invalid="The check-out date cannot be before the check-in date.",
        ),
        "guest_count": FieldText(
            "Number of guests booked",
            required="Enter the number of guests in the booking.",
            invalid="Enter a whole number from 1 to 500.",
        ),
        "indicators": FieldText(
            "What you noticed",
            required="Tick at least one observation.",
            invalid="Tick observations from the list.",
        ),
        "exploitation": FieldText(
            "Form of exploitation",
            required="Tick at least one answer, or “Don't know”.",
            invalid="Tick answers from the list.",
        ),
        "persons_count": FieldText(
            "Number of people concerned",
            hint="An estimate is enough.",
            required="Enter the number of people concerned, even estimated.",
            invalid="Enter a whole number from 1 to 500.",
        ),
        "minors": FieldText(
            "Of whom minors",
            optional=True,
            hint="Leave empty if you don't know.",
            invalid="Enter a whole number from 0 to the number of people concerned.",
        ),
        "danger": FieldText(
            "Is anyone in immediate danger?",
            required="Answer yes or no.",
            invalid="Answer yes or no.",
        ),
        "description": FieldText(
            "Describe what you saw or heard",
            optional=True,
            hint="The facts, no names or photos. At most 5,000 characters.",
            invalid="Write at most 5,000 characters.",
        ),
        "reporter_role": FieldText(
            "You are",
            required="Say who you are.",
            invalid="Choose one of the answers offered.",
        ),
        "contact_consent": FieldText(
            "I agree that MIPROF keeps these details to contact me",
            invalid="Tick this box for us to keep your details, or clear them.",
            required="Enter a phone number or an email address, or untick the box.",
        ),
        "contact_name": FieldText(
            "Your name",
            optional=True,
            invalid="Enter a name of at most 200 characters.",
        ),
        "contact_phone": FieldText(
            "Phone",
            optional=True,
            invalid="Enter a phone number, for example +33 6 12 34 56 78.",
        ),
        "contact_email": FieldText(
            "Email address",
            optional=True,
            invalid="Enter a valid email address, for example name@example.org.",
        ),
    },
}
