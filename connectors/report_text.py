"""Every word the report, worklist.xlsx, the terminal summary and the Prefect artifacts show.

One message catalogue per language (:data:`MESSAGES`), Danish first: the readers are Danish credit
and finance people, so the words are theirs (faktureres, inkasso, konkurs, tvangsopløsning,
dubletter, stamdata). Reason codes keep their contract names in every language; their
explanations (:data:`FLAG_TEXT`) and what to do about them (:data:`FLAG_ACTION`) are translated.

Numbers and times are formatted here too: Danish ``1.234,5`` and ``2. dec. 2026 kl. 03.50``,
English ``1,234.5`` and ``2 Dec 2026, 03:50``, both in Copenhagen time.

>>> Text("da").number(1234567.26, 1), Text("en").number(1234567.26, 1)
('1.234.567,3', '1,234,567.3')
>>> Text("da").time("2026-12-02T02:50:43+00:00")
'2. dec. 2026 kl. 03.50'
>>> Text("en")("customers")
'customers'
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

LANGUAGES: Final = ("da", "en")


class Language(StrEnum):
    """``--lang`` of ``cleanse``, ``report`` and ``review``: one of :data:`LANGUAGES`."""

    da = "da"
    en = "en"


COPENHAGEN: Final = ZoneInfo("Europe/Copenhagen")

FLAG_TEXT: Final[dict[str, dict[str, str]]] = {
    "da": {
        "MISSING_NAME": "Intet brugbart navn.",
        "MISSING_ADDRESS": "Mangler vejnavn eller postnummer, efter at adressen er læst.",
        "UNKNOWN_POSTAL_CODE": "Et postnummer, der ikke findes i Danmark.",
        "MISSING_CVR": "En virksomhed uden CVR-nummer.",
        "INVALID_CVR": "Et CVR-nummer med forkert længde eller forkert kontrolciffer (modulus 11).",
        "CVR_NOT_FOUND": "Et gyldigt CVR-nummer, som CVR-registret ikke kender.",
        "NAME_MISMATCH": (
            "Navnet svarer hverken til registrets nuværende navn eller til virksomhedens binavne: "
            "fakturaen ville gå til en forkert juridisk enhed."
        ),
        "COMPANY_BANKRUPT": (
            "Under konkurs (CVR-registret siger det, eller navnet gør). "
            "Krav skal anmeldes i konkursboet."
        ),
        "COMPANY_DISSOLVED": (
            "Ophørt, opløst, tvangsopløst eller slettet (CVR-registret siger det, eller "
            "navnet gør)."
        ),
        "DECEASED_ESTATE": (
            "Kunden er død: posten er et dødsbo (navnet siger det). Krav anmeldes i dødsboet."
        ),
        "COMPANY_DISTRESSED": (
            "Under tvangsopløsning, frivillig likvidation eller rekonstruktion (CVR-registret "
            "siger det, eller navnet gør)."
        ),
        "MISSING_EAN": "En offentlig kunde uden EAN-nummer (offentlige kunder faktureres via EAN).",
        "INVALID_EAN": "Et EAN/GLN-nummer med forkert kontrolciffer eller længde.",
        "BLACKLISTED": "Kunden (en af kundens poster) står på spærrelisten.",
        "NO_CONTACT": "Hverken et gyldigt telefonnummer eller en gyldig e-mail i kundens poster.",
        "MINOR": (
            "Kunden er under 18 år efter fødselsdatoen (umyndig): kan faktureres til værgen, "
            "men er ingen almindelig skyldner for inkasso."
        ),
        "INVALID_PHONE": "Et telefonnummer, der ikke er gyldigt.",
        "INVALID_EMAIL": "En e-mailadresse, der ikke er gyldig.",
        "ADDRESS_MISMATCH": (
            "Adressen afviger fra registrets nuværende adresse: kunden er måske flyttet."
        ),
        "POSTAL_CITY_MISMATCH": (
            "Bynavnet er et andet postnummers by (5000 Aalborg): postnummeret eller byen er"
            " forkert."
        ),
        "DUPLICATE": "Kunden har mere end én post i stamdata (dubletter).",
        "REVIEW_MATCH": "Posten indgår i et muligt dubletpar, som skal vurderes af en person.",
        "REGISTRY_UNCHECKED": (
            "CVR-registret kunne ikke spørges (nedbrud, kvote, timeout): "
            "ukendt er ikke det samme som 'ikke fundet'."
        ),
        "CPR_IN_DATA": "Et CPR-nummer stod i et felt; det er maskeret i alle output.",
    },
    "en": {
        "MISSING_NAME": "No usable name.",
        "MISSING_ADDRESS": "No street or no postal code after parsing the address.",
        "UNKNOWN_POSTAL_CODE": "A postal code that does not exist in Denmark.",
        "MISSING_CVR": "A company record without a CVR number.",
        "INVALID_CVR": "A CVR number with a bad length or modulus-11 checksum.",
        "CVR_NOT_FOUND": "A valid CVR number the registry does not know.",
        "NAME_MISMATCH": (
            "The name matches neither the registry's current name nor its secondary names "
            "(binavne): invoices would go to the wrong legal entity."
        ),
        "COMPANY_BANKRUPT": (
            "Under bankruptcy (the registry says so, or the name does). Claims go to the estate."
        ),
        "COMPANY_DISSOLVED": (
            "Ceased, dissolved, compulsorily dissolved or deleted (the registry says so, or the "
            "name does)."
        ),
        "DECEASED_ESTATE": (
            "The customer has died: the record is an estate (its name says so). Claims go to "
            "the estate."
        ),
        "COMPANY_DISTRESSED": (
            "Under compulsory dissolution, voluntary liquidation or restructuring (the registry "
            "says so, or the name does)."
        ),
        "MISSING_EAN": (
            "A public-sector customer without an EAN number (public bodies are invoiced by EAN)."
        ),
        "INVALID_EAN": "An EAN/GLN number with a bad GS1 check digit or length.",
        "BLACKLISTED": "The customer (any record of it) matches the blacklist.",
        "NO_CONTACT": "Neither a valid phone number nor a valid e-mail in any of its records.",
        "MINOR": (
            "The customer is under 18 by the date of birth (a minor): may be invoiced through "
            "the guardian, but is no ordinary debtor for debt collection."
        ),
        "INVALID_PHONE": "A phone value that is not a valid number.",
        "INVALID_EMAIL": "An e-mail value that is not a valid address.",
        "ADDRESS_MISMATCH": (
            "The address differs from the registry's current address: the customer may have moved."
        ),
        "POSTAL_CITY_MISMATCH": (
            "The city is another postal code's town (5000 Aalborg): the code or the city is wrong."
        ),
        "DUPLICATE": "The customer has more than one record in the master data (duplicates).",
        "REVIEW_MATCH": "The record is in a possible duplicate pair that a person must decide.",
        "REGISTRY_UNCHECKED": (
            "The registry could not be asked (outage, quota, timeout): unknown is not 'not found'."
        ),
        "CPR_IN_DATA": "A CPR number was found in a field; it is masked in every output.",
    },
}

FLAG_ACTION: Final[dict[str, dict[str, str]]] = {
    "da": {
        "MISSING_NAME": "Indtast kundens navn.",
        "MISSING_ADDRESS": "Indtast vejnavn, husnummer og postnummer.",
        "UNKNOWN_POSTAL_CODE": "Ret postnummeret.",
        "MISSING_CVR": "Find CVR-nummeret på datacvr.virk.dk og indtast det.",
        "INVALID_CVR": "Ret CVR-nummeret.",
        "CVR_NOT_FOUND": "Kontrollér CVR-nummeret; det er måske tastet forkert.",
        "NAME_MISMATCH": "Ret navnet til registrets navn, eller ret CVR-nummeret.",
        "COMPANY_BANKRUPT": "Stop fakturering; anmeld kravet i konkursboet.",
        "COMPANY_DISSOLVED": "Stop fakturering og spær kunden.",
        "DECEASED_ESTATE": (
            "Stop løbende fakturering; anmeld kravet i dødsboet hos bobestyrer eller arvinger, "
            "ikke til inkasso."
        ),
        "COMPANY_DISTRESSED": "Send ikke til inkasso uden kreditchefens godkendelse.",
        "MISSING_EAN": "Indhent kundens EAN-nummer.",
        "INVALID_EAN": "Ret EAN-nummeret.",
        "BLACKLISTED": "Fakturér ikke; se spærrelistens begrundelse.",
        "NO_CONTACT": "Indhent et telefonnummer eller en e-mailadresse.",
        "MINOR": (
            "Send ikke til inkasso; ret kravet mod værgen (forældremyndighedens indehaver), "
            "eller ret fødselsdatoen, hvis den er forkert."
        ),
        "INVALID_PHONE": "Ret telefonnummeret.",
        "INVALID_EMAIL": "Ret e-mailadressen.",
        "ADDRESS_MISMATCH": "Opdatér adressen til registrets (står i reimport-filen).",
        "POSTAL_CITY_MISMATCH": "Ret postnummeret eller byen; datavask har ladet begge stå.",
        "DUPLICATE": "Læg posterne sammen efter sammenlægningsplanen.",
        "REVIEW_MATCH": "Vurdér parret med datavask review.",
        "REGISTRY_UNCHECKED": "Kør datavask igen, når registret svarer.",
        "CPR_IN_DATA": "Slet CPR-nummeret fra feltet i CRM.",
    },
    "en": {
        "MISSING_NAME": "Enter the customer's name.",
        "MISSING_ADDRESS": "Enter street, house number and postal code.",
        "UNKNOWN_POSTAL_CODE": "Correct the postal code.",
        "MISSING_CVR": "Look the CVR number up on datacvr.virk.dk and enter it.",
        "INVALID_CVR": "Correct the CVR number.",
        "CVR_NOT_FOUND": "Check the CVR number; it may be mistyped.",
        "NAME_MISMATCH": "Use the registry's name, or correct the CVR number.",
        "COMPANY_BANKRUPT": "Stop invoicing; file the claim with the bankruptcy estate.",
        "COMPANY_DISSOLVED": "Stop invoicing and bar the customer.",
        "DECEASED_ESTATE": (
            "Stop recurring invoices; file the claim with the estate's executor or heirs, not "
            "with debt collection."
        ),
        "COMPANY_DISTRESSED": "No collection without the credit manager's approval.",
        "MISSING_EAN": "Ask the customer for its EAN number.",
        "INVALID_EAN": "Correct the EAN number.",
        "BLACKLISTED": "Do not invoice; see the blacklist's reason.",
        "NO_CONTACT": "Get a phone number or an e-mail address.",
        "MINOR": (
            "No debt collection; address the claim to the guardian (the parents), or correct "
            "the date of birth if it is wrong."
        ),
        "INVALID_PHONE": "Correct the phone number.",
        "INVALID_EMAIL": "Correct the e-mail address.",
        "ADDRESS_MISMATCH": "Update the address to the registry's (it is in the re-import file).",
        "POSTAL_CITY_MISMATCH": "Correct the postal code or the city; datavask left both as typed.",
        "DUPLICATE": "Merge the records as the merge plan says.",
        "REVIEW_MATCH": "Decide the pair with datavask review.",
        "REGISTRY_UNCHECKED": "Run datavask again when the registry answers.",
        "CPR_IN_DATA": "Delete the CPR number from the field in the CRM.",
    },
}

# What each rule of changes.csv did (cleansing.changes.RULES), for the worklist's Ændringer sheet:
# the code stays in its column (people filter on it), this explains it beside.
RULE_TEXT: Final[dict[str, dict[str, str]]] = {
    "da": {
        "name_case": "Store og små bogstaver rettet (HANSEN BYG APS → Hansen Byg ApS).",
        "legal_form": "Selskabsformen skrevet på den gængse måde (Anpartsselskab, A.p.S. → ApS).",
        "name_normalised": "Navnet renset: mellemrum og tegn (Hansen & Søn → Hansen og Søn).",
        "address_parsed": (
            "Adressen læst og skrevet på standardform (vestergade 12,2tv → Vestergade 12, 2. tv)."
        ),
        "postal_code": (
            "Postnummeret skrevet som fire cifre eller fundet i adressen (DK-8000 → 8000,"
            " 800 → 0800)."
        ),
        "postal_city": "Byen skrevet som postnummerets by (Århus C → Aarhus C).",
        "phone_e164": (
            "Telefonnummeret skrevet i internationalt format (28 29 30 31 → +4528293031)."
        ),
        "email_normalised": "E-mailadressen renset (mellemrum, store bogstaver, mailto:).",
        "cvr_compact": "CVR-nummeret skrevet som otte cifre (DK 1234 5674 → 12345674).",
        "cvr_from_name": "Det tomme CVR-felt udfyldt med det CVR-nummer, der stod i navnet.",
        "ean_compact": "EAN-nummeret skrevet som 13 cifre uden mellemrum.",
        "registry": "CVR-registrets værdi: virksomhedens nuværende navn eller adresse.",
        "golden_value": (
            "Værdien fra kundens andre poster: den sammenlagte kundes værdi (dubletter)."
        ),
        "cpr_masked": (
            "Feltet holdt et CPR-nummer: det er fjernet, og det, der stod ved siden af, er beholdt."
        ),
        "trimmed": "Mellemrum før eller efter værdien fjernet.",
    },
    "en": {
        "name_case": "Capitalisation corrected (HANSEN BYG APS → Hansen Byg ApS).",
        "legal_form": "The legal form written the usual way (Anpartsselskab, A.p.S. → ApS).",
        "name_normalised": "The name cleaned: spaces and signs (Hansen & Søn → Hansen og Søn).",
        "address_parsed": (
            "The address read and written in standard form (vestergade 12,2tv → Vestergade 12,"
            " 2. tv)."
        ),
        "postal_code": (
            "The postal code written as four digits or found in the address (DK-8000 → 8000,"
            " 800 → 0800)."
        ),
        "postal_city": "The city written as the postal code's town (Århus C → Aarhus C).",
        "phone_e164": (
            "The phone number written in international format (28 29 30 31 → +4528293031)."
        ),
        "email_normalised": "The e-mail address cleaned (spaces, capitals, mailto:).",
        "cvr_compact": "The CVR number written as eight digits (DK 1234 5674 → 12345674).",
        "cvr_from_name": "The empty CVR cell filled with the CVR number the name held.",
        "ean_compact": "The EAN number written as 13 digits without spaces.",
        "registry": "The CVR registry's value: the company's current name or address.",
        "golden_value": (
            "The value of the customer's other records: the merged customer's (duplicates)."
        ),
        "cpr_masked": (
            "The cell held a CPR number: it is removed, and what was typed beside it is kept."
        ),
        "trimmed": "Spaces before or after the value removed.",
    },
}

MESSAGES: Final[dict[str, dict[str, str]]] = {
    "da": {
        "title": "Kundestamdata: kvalitetsrapport",
        "report": "datavask-rapport",
        "run": "kørsel",
        "started": "startet",
        "finished": "færdig",
        "copenhagen_time": "dansk tid",
        "records": "{n|post|poster}",
        "records_note": "rækker i input",
        "customers": "{n|kunde|kunder}",
        "customers_note": "efter sammenlægning af dubletter",
        "definition": (
            "En post er én række i input. En kunde er de poster, datavask har fundet er den samme "
            "kunde (dubletter lagt sammen). Lister og tal herunder tæller kunder; antal poster "
            "står "
            "i parentes."
        ),
        "invoice_ready": "kan faktureres",
        "invoice_ready_note": "poster uden noget, der spærrer for fakturering",
        "collection_ready": "kan sendes til inkasso",
        "collection_ready_note": "og intet, der spærrer for inkasso",
        "settled_note": (
            "{n} {n|post|poster} mere mangler et nummer, som kundens anden post har: kunden "
            "kan faktureres"
        ),
        "duplicate_records": "{n|dublet|dubletter}",
        "duplicate_records_note": "poster, der lægges sammen med en anden post",
        "clusters_with_duplicates": "{n|kunde|kunder} med dubletter",
        "clusters_with_duplicates_note": "kunder med to eller flere poster",
        "customers_blocked_invoice": "{n|kunde|kunder} kan ikke faktureres",
        "customers_blocked_collection": "{n|kunde|kunder} kan ikke sendes til inkasso",
        "customers_registry_events": "{n|kunde|kunder} med hændelser i CVR",
        "pairs_review": "par venter på vurdering",
        "share_of_records": "af posterne",
        "n_records": "{n} {n|post|poster}",
        "n_customers": "{n} {n|kunde|kunder}",
        "section_invoice": "Kan ikke faktureres",
        "section_invoice_lead": (
            "{n} {n|kunde|kunder} ({records} {records|post|poster}) kan ikke faktureres, før "
            "stamdata er rettet. Hvorfor, og hvad du skal gøre:"
        ),
        "section_collection": "Kan ikke sendes til inkasso",
        "section_collection_lead": (
            "{n} {n|kunde|kunder} ({records} {records|post|poster}) kan faktureres, men ikke "
            "sendes til inkasso. I alt kan {total} {total|kunde|kunder} ikke sendes til inkasso "
            "(de, der ikke kan faktureres, heller ikke)."
        ),
        "section_registry": "Hændelser i CVR-registret",
        "section_registry_lead": (
            "{n} {n|kunde|kunder} har en hændelse i CVR: konkurs, opløsning, tvangsopløsning eller "
            "rekonstruktion, nyt navn eller ny adresse."
        ),
        "section_alerts": "Overvågning: ændringer siden sidste kørsel",
        "section_alerts_lead": "{n} {n|ændring|ændringer} i CVR siden sidste overvågning.",
        "section_duplicates": "Dubletter, der skal lægges sammen",
        "section_duplicates_lead": (
            "{n} {n|kunde|kunder} har {records} {records|post|poster} i alt; {extra} af dem"
            " {extra|er en dublet|er dubletter}. Behold den "
            "overlevende post, læg de andre ind i den (filen reimport/merge_plan.csv)."
        ),
        "section_quality": "Datakvalitet",
        "section_quality_lead": (
            "{n} {n|kunde|kunder} har et ugyldigt telefonnummer eller en ugyldig e-mail, et "
            "CPR-nummer i et felt, eller kunne ikke slås op i CVR. Det spærrer ikke for "
            "fakturering."
        ),
        "section_review": "Mulige dubletter, der skal vurderes",
        "section_review_lead": (
            "{n} par af poster ligner hinanden, men ikke nok til at blive lagt sammen "
            "automatisk (sandsynlighed fra {low} til {high}). Start vurderingen med:"
        ),
        "section_review_lead_held": (
            "{n} par af poster skal vurderes af en person. {band} af dem ligner hinanden, men"
            " ikke nok til at blive lagt sammen automatisk (sandsynlighed fra {low} til {high});"
            " {held} scorer højere, men holdes til vurdering af en regel — se kolonnen »{why}«."
            " Start vurderingen med:"
        ),
        "section_review_lead_all_held": (
            "{n} par af poster scorer over vurderingsintervallet ({low} til {high}), men holdes"
            " til vurdering af en regel — se kolonnen »{why}«. Start vurderingen med:"
        ),
        "section_review_none": "Ingen par venter på vurdering.",
        "decisions_obeyed": (
            "Kørslen fulgte {n} {n|beslutning|beslutninger} fra datavask review "
            "({same} samme, {different} forskellige)."
        ),
        "decisions_not_obeyed": "{n} kunne ikke følges:",
        "section_nothing": "Ingen kunder i denne gruppe.",
        "completeness": "Udfyldte felter før og efter rensning",
        "field": "felt",
        "before": "før",
        "in_crm": "i CRM",
        "after": "efter",
        "not_in_input": "ikke i input",
        "registry_classes": "Kunder efter status i CVR",
        "registry_skipped": (
            "CVR-opslag sprunget over: kørslen havde --registry none. Konkurs, opløsning og "
            "navneændringer er ikke kontrolleret."
        ),
        "registry_uncovered": (
            "Advarsel: CVR-registret, kørslen brugte ({source}), kendte kun {known} af {checked} "
            "{checked|gyldigt CVR-nummer|gyldige CVR-numre}. Det dækker ikke denne fils "
            "virksomheder (eksempelregistret, eller en gammel eller delvis kopi?), så "
            "CVR_NOT_FOUND siger ikke, at numrene er tastet forkert, og konkurs, opløsning og "
            "navneændringer er ikke kontrolleret for dem. Kør igen med --registry sat til en fuld "
            "kopi (datavask registry sync) eller ERST's API."
        ),
        "action_cvr_not_found_uncovered": (
            "Kontrollér først registret, kørslen brugte: det kendte næsten ingen af filens "
            "CVR-numre (se advarslen øverst i rapporten)."
        ),
        "status": "status",
        "erst_status": "status i CVR (rå)",
        "reason": "årsag",
        "what_to_do": "hvad du skal gøre",
        "count": "antal",
        "col_customer": "kunde",
        "col_records": "kundenr.",
        "col_name": "navn",
        "col_address": "adresse",
        "col_contact": "telefon / e-mail",
        "col_cvr": "CVR / EAN",
        "col_registry": "CVR-registret",
        "col_reasons": "årsager",
        "col_survivor": "overlevende post",
        "col_merged": "lægges ind i den",
        "col_plan": "sådan i CRM",
        "col_score": "laveste sandsynlighed",
        "col_events": "hændelse",
        "col_flagged": "poster med årsagen",
        "search": "Søg",
        "search_hint": "navn, kundenr., CVR, by …",
        "filter_all": "alle årsager",
        "page": "side",
        "of": "af",
        "previous": "forrige",
        "next": "næste",
        "shown": "{shown} af {total} {total|kunde|kunder}",
        "shown_pairs": "{shown} af {total} par",
        "shown_alerts": "{shown} af {total} {total|ændring|ændringer}",
        "not_usable": "ikke brugbar, uændret i CRM",
        "empty": "tom",
        "cvr_link_title": "Åbn virksomheden på datacvr.virk.dk",
        "event_bankrupt": "konkurs",
        "event_dissolved": "opløst",
        "event_distressed": "tvangsopløsning/likvidation/rekonstruktion",
        "event_renamed": "nyt navn",
        "event_renamed_why": "CVR-registret har et nyere navn for virksomheden end CRM'et.",
        "event_moved": "ny adresse",
        "class_active": "aktiv",
        "class_distressed": "nødlidende",
        "class_bankrupt": "konkurs",
        "class_dissolved": "opløst",
        "class_not_found": "ikke fundet",
        "class_unchecked": "ikke slået op",
        "class_no_cvr": "intet gyldigt CVR",
        "class_person": "privatkunde",
        "about": "Om kørslen",
        "input_file": "inputfil",
        "format": "format",
        "mapping": "kolonner",
        "date_parts": "år, måned, dag",
        "registry": "CVR-kilde",
        "registry_none": "ingen (--registry none)",
        "review_band": "vurderingsinterval",
        "review_band_derived": "udledt af modellen for denne fil",
        "evaluation": "målt mod facit",
        "evaluation_text": (
            "blokering fandt {recall} af {pairs} sande par ({per_record} kandidatpar pr. post); "
            "grupperne: præcision {precision}, genfinding {found}, F1 {f1}"
        ),
        "orchestration": "afvikling",
        # run.json's ``orchestration`` note, written in English (:meth:`Text.orchestration`)
        "orchestration_disabled": "uden Prefect (slået fra: DATAVASK_ORCHESTRATION=none)",
        "orchestration_ephemeral": "Prefects midlertidige server for denne kørsel",
        "orchestration_server": "Prefect-serveren på {url}",
        "orchestration_not_answering": "kørt uden Prefect: Prefect-serveren på {url} svarede ikke",
        "orchestration_serve": "Prefect-serveren, som datavask serve bruger, på {url}",
        "orchestration_local_server": "datavasks lokale Prefect-server på {url}",
        "orchestration_no_server": (
            "kørt uden Prefect: ingen server sat op (sæt PREFECT_API_URL eller kør datavask serve"
            " for at se kørslerne i Prefect)"
        ),
        "orchestration_serve_job": "datavask serve, Prefect-serveren på {url}",
        "orchestration_flow_run": "Prefect-flowkørsel",
        "step": "trin",
        # run.json's ``timings``, one per step of the run
        "step_read": "indlæsning",
        "step_normalise": "rensning af navne, adresser, telefon, e-mail og numre",
        "step_registry": "opslag i CVR",
        "step_match": "dubletsøgning",
        "step_verdict": "årsager, sammenlægning og ændringer",
        "step_total_before_write": "i alt før skrivning af output",
        "step_write": "skrivning af output og rapport",
        "mapping_column": "kolonne i input",
        "mapping_field": "læst som",
        # the canonical fields (cleansing.schema.CANONICAL_FIELDS), as the columns and the
        # Ændringer sheet name them
        "field_record_id": "kundenummer",
        "field_name": "navn",
        "field_name_2": "navn 2",
        "field_first_name": "fornavn",
        "field_last_name": "efternavn",
        "field_address": "adresse",
        "field_address_2": "adresse 2",
        "field_address_3": "adresse 3",
        "field_street": "vej",
        "field_house_number": "husnummer",
        "field_floor": "etage",
        "field_door": "dør",
        "field_postal_code": "postnummer",
        "field_city": "by",
        "field_country": "land",
        "field_phone": "telefon",
        "field_mobile": "mobil",
        "field_email": "e-mail",
        "field_cvr": "CVR-nummer",
        "field_ean": "EAN-nummer",
        "field_customer_type": "kundetype",
        "field_date_of_birth": "fødselsdato",
        "field_updated_at": "senest ændret",
        "field_person_id": "person-id",
        "time": "tid",
        "seconds": "{n} sek.",
        "sum_in_steps": "i trinene",
        "versions": "versioner",
        "reason_codes": "Alle årsagskoder",
        "blocks": "spærrer for",
        "blocks_invoice": "fakturering",
        "blocks_collection": "inkasso",
        "blocks_nothing": "intet",
        "records_with_code": "poster",
        "noscript": "Tabellerne kræver JavaScript (alt er i denne ene fil; intet hentes udefra).",
        "worklist_hint": "Samme lister som regneark: worklist.xlsx i samme mappe.",
        "changes": "ændringer",
        "changes_lead": "{n} {n|felt|felter} er renset (filen changes.csv og arket Ændringer).",
        # terminal summary
        "sum_input": "Input",
        "sum_records": "Poster",
        "sum_customers": "Kunder",
        "sum_duplicates": "Dubletter",
        "sum_duplicates_note": "poster i {n} {n|kunde|kunder} med mere end én post",
        "sum_invoice": "Kan faktureres",
        "sum_collection": "Kan gå til inkasso",
        "sum_blocked_invoice": "Kan ikke faktureres",
        "sum_blocked_collection": "Kan ikke inddrives",
        "sum_registry": "CVR",
        "sum_registry_note": (
            "{n|CVR-nummer|CVR-numre} slået op, {not_found} ikke fundet, {unchecked} ikke besvaret"
        ),
        "sum_registry_skipped": "sprunget over",
        "sum_registry_skipped_note": "--registry none: ingen CVR-opslag",
        "sum_warning": "Advarsel",
        "sum_registry_uncovered": (
            "registret kendte kun {known} af {checked} {checked|CVR-nummer|CVR-numre}: det dækker "
            "ikke filens virksomheder; brug --registry med en fuld kopi eller ERST's API"
        ),
        "sum_review": "Til vurdering",
        "sum_review_note": "par: datavask review {run_dir}",
        "sum_top": "Flest årsager",
        "sum_time": "Tid",
        "sum_outputs": "Output",
        "sum_report": "rapport",
        "sum_no_name": "Intet navn",
        "sum_no_name_note": (
            "ingen kolonne er læst som kundens navn; ikke læst: {columns}. Angiv den med --mapping"
        ),
        "sum_masked_ids": "Kundenumre, der er CPR-numre",
        "sum_masked_ids_note": (
            "maskeret og udeladt af customers_update.csv: CRM'et kan ikke finde rækkerne;"
            " se merge_plan.csv's rækkenumre"
        ),
        "sum_repeated_ids": "Kundenumre på flere rækker",
        "sum_repeated_ids_note": (
            "{ids} {ids|kundenummer deles|kundenumre deles} af flere kunder (rækkerne {rows}): "
            "udeladt af customers_update.csv, hvor den ene kunde ellers fik den andens værdier; "
            "giv hver kunde sit eget nummer i CRM'et"
        ),
        "sum_input_problems": "Inputproblemer",
        "sum_input_problems_note": (
            "{n|række|rækker} med for mange/få felter, overskriften igen eller en sumlinje"
            " (beholdt; se source_problem)"
        ),
        "sum_prefect": "Prefect-kørsel",
        "sum_decisions": "Beslutninger",
        "sum_decisions_note": (
            "par fulgt ({same} samme, {different} forskellige); modellen var enig i {agreed},"
            " {band} lå i vurderingsbåndet"
        ),
        "sum_decisions_row_numbers": (
            "advarsel: input har ingen id-kolonne, så beslutningerne henviser til rækkenumre:"
            " de passer kun til et input med de samme rækker i samme rækkefølge"
        ),
        "sum_not_obeyed": "Ikke fulgt",
        "sum_not_obeyed_more": " (+{n} flere i run.json)",
        # why a reviewer's decision was not obeyed (run.json steps.match.decisions.problems)
        "decision_problem_not_in_input": "post {record} er ikke længere i input",
        "decision_problem_repeated_id": (
            "post {record} står mere end én gang i input; hvilken af dem beslutningen gjaldt,"
            " vides ikke"
        ),
        "decision_problem_another_customer": (
            "post {record} er en anden kunde nu: {name_now}, ikke {name_then}"
        ),
        "decision_problem_name_gone": "post {record} har intet navn nu; det var {name_then}",
        "decision_problem_two_cvrs": (
            "afvist: 'samme' ville lægge to forskellige CVR-numre sammen ({cvr_l} og {cvr_r})"
        ),
        "decision_problem_empty_id": "linje {line} i beslutningsfilen mangler et kundenummer",
        "decision_problem_same_record": (
            "linje {line} i beslutningsfilen parrer en post med sig selv"
        ),
        "decision_problem_unknown_decision": (
            "linje {line} i beslutningsfilen: '{value}' er hverken 'same' eller 'different'"
        ),
        "records_customers": (
            "{records} {records|post|poster} → {customers} {customers|kunde|kunder}"
        ),
        # worklist.xlsx
        "sheet_invoice": "Kan ikke faktureres",
        "sheet_collection": "Kan ikke inddrives",
        "sheet_registry": "CVR-hændelser",
        "sheet_duplicates": "Dubletter",
        "sheet_review": "Til vurdering",
        "sheet_changes": "Ændringer",
        "sheet_alerts": "Overvågning",
        "sheet_merge_plan": "Sammenlægningsplan",
        "x_cluster": "kunde-id",
        "x_record_ids": "kundenumre",
        "x_flagged_ids": "kundenumre med årsagen",
        "x_reasons": "årsagskoder",
        "x_why": "hvorfor",
        "x_todo": "hvad du skal gøre",
        "x_name": "navn",
        "x_name_before": "navn i CRM",
        "x_address": "adresse (renset)",
        "x_address_before": "adresse i CRM",
        "x_phone": "telefon (renset)",
        "x_phone_before": "telefon i CRM",
        "x_email": "e-mail (renset)",
        "x_email_before": "e-mail i CRM",
        "x_cvr": "CVR",
        "x_cvr_before": "CVR i CRM",
        "x_ean": "EAN",
        "x_ean_before": "EAN i CRM",
        "x_cvr_link": "CVR på virk.dk",
        "x_registry_name": "navn i CVR",
        "x_registry_status": "status i CVR",
        "x_registry_class": "statusklasse",
        "x_registry_new": "CVR's nye navn/adresse",
        "x_events": "hændelser",
        "x_survivor": "overlevende kundenr.",
        "x_merged": "kundenumre, der lægges ind",
        "x_score": "sandsynlighed",
        "x_plan": "sådan i CRM",
        "x_left": "kundenr. 1",
        "x_right": "kundenr. 2",
        "x_left_name": "navn 1",
        "x_right_name": "navn 2",
        "x_left_address": "adresse 1",
        "x_right_address": "adresse 2",
        "x_probability": "sandsynlighed for samme kunde",
        "x_review_why": "hvorfor til vurdering",
        "review_rule_score": "scoren ligger i vurderingsintervallet",
        "review_rule_neighbours": "samme navn og vej, to husnumre, intet andet fælles",
        "review_rule_branches": "samme CVR-nummer, andet navn og anden adresse: to afdelinger?",
        "review_rule_surnames": "samme fornavn og adresse, to efternavne: navneskift eller to?",
        "review_rule_namesakes": "navnefæller på én adresse, hver sin mobil og e-mail",
        "review_rule_every_pair": "ingen blokeringsnøgle foreslog parret",
        "review_rule_link_component": "kun fundet gennem en tredje post",
        "review_rule_cluster": "kundens øvrige poster bekræfter det ikke",
        "x_record_id": "kundenr.",
        "x_field": "felt",
        "x_before": "før",
        "x_after": "efter",
        "x_rule": "regel",
        "x_field_name": "feltets navn",
        "x_rule_text": "hvad datavask rettede",
        "x_alert": "ændring",
        "x_changed_at": "ændret i CVR",
        "x_detected_at": "opdaget",
        "crm_merge": "læg ind i den overlevende post",
        "crm_bar": "opdatér den overlevende post; spær de andre (barred=true)",
        "crm_hubspot": "læg ind i den overlevende post (HubSpot lægger to sammen ad gangen)",
        "crm_salesforce": (
            "læg ind i den overlevende post som master (Salesforce lægger op til tre sammen)"
        ),
        "crm_dynamics": (
            "læg ind i den overlevende post som master (Dynamics 365 lægger to sammen ad gangen)"
        ),
        # datavask review's page (connectors/review): every word on it
        "review_title": "datavask: vurdering af dubletpar — {run}",
        "review_heading": "Vurdering af dubletpar",
        "review_meta": "kørsel {run} · beslutninger i {decisions} · vurderet af {reviewer}",
        "review_file_problems_one": "1 ulæselig linje i beslutningsfilen (springes over)",
        "review_file_problems_many": "{n} ulæselige linjer i beslutningsfilen (springes over)",
        "review_progress": "{decided} af {total} afgjort",
        "review_done": "Alle par er afgjort",
        "review_done_where": "Beslutningerne står i {path}. Næste kørsel følger dem:",
        "review_done_back": "Tryk {key} for at gå tilbage gennem parrene.",
        "review_none": "Denne kørsel efterlod ingen par til vurdering.",
        "review_same": "samme",
        "review_different": "forskellige",
        "review_skip": "spring over",
        "review_undo": "fortryd",
        "review_key_space": "Mellemrum",
        "review_note": "Note (N for at skrive, Esc for at gå ud) — gemmes med næste beslutning",
        "review_saved": "Gemt: par {n} {decision} ({at})",
        "review_not_saved": "IKKE gemt: par {n} ({error}) — afgør det igen",
        "review_not_loaded": "Par {n} kunne ikke hentes: {error}",
        "review_nothing_to_undo": "Intet at fortryde i denne session",
        "review_decision_same": "samme",
        "review_decision_different": "forskellige",
        "review_decision_undecided": "fortrudt",
        "review_pair": "Par {n} af {total}: post {left} og {right}",
        "review_probability": (
            "Modellen vurderer chancen for, at det er samme kunde, til {percent}."
        ),
        "review_why_neighbours": (
            "Til vurdering trods scoren: samme navn på samme vej med to husnumre og intet"
            " telefonnummer, e-mail, CVR-, EAN-nummer eller fødselsdato til fælles — to naboer"
            " af samme navn, en flytning eller et husnummer skrevet forkert."
        ),
        "review_why_branches": (
            "Til vurdering trods scoren: samme CVR-nummer, men andet navn og anden adresse —"
            " to afdelinger af samme virksomhed, med hver sin konto, eller én flyttet og omdøbt."
        ),
        "review_why_surnames": (
            "Til vurdering trods scoren: samme fornavn på samme adresse, men to efternavne og"
            " ingen e-mail, fødselsdato eller id til fælles — én, der har taget sin ægtefælles"
            " navn, eller to i samme husstand."
        ),
        "review_why_namesakes": (
            "Til vurdering trods scoren: to af samme navn på samme adresse med et fælles nummer,"
            " men hver sin mobil og e-mail — far og søn lige så tit som én person med nyt nummer."
        ),
        "review_why_every_pair": (
            "Til vurdering trods scoren: ingen blokeringsnøgle foreslog parret (kun sammenligningen"
            " af alle par i en lille fil); maskinen lægger ikke sammen på det alene."
        ),
        "review_why_link_component": (
            "Til vurdering trods scoren: parret blev kun fundet, fordi begge poster hænger sammen"
            " med en tredje; maskinen lægger ikke sammen på det alene."
        ),
        "review_why_cluster": (
            "Til vurdering trods scoren: sammenlægningen ville samle kunder, som deres øvrige"
            " poster ikke bekræfter, eller poster der holdes adskilt (to CVR- eller EAN-numre)."
        ),
        "review_at_stake": "Det står på spil:",
        "review_stake_company_person": "lægger en virksomhed sammen med en person",
        "review_stake_both_invoice_ready": "begge poster kan faktureres",
        "review_stake_cvr_or_ean": "et CVR- eller EAN-nummer står på spil",
        "review_stake_several_records": "lægger kunder med flere poster sammen",
        "review_same_customer": (
            "De to poster er allerede én kunde ({cluster}) gennem andre poster."
            " {different} skiller dem ad."
        ),
        "review_standing": "Afgjort {decision} af {by} {at}{note}. En ny beslutning erstatter den.",
        "review_history": "Tidligere beslutninger om dette par",
        "review_history_line": "{decision} af {by} {at}{note}",
        "review_record": "Post {id}",
        "review_cleaned": "Rensede værdier",
        "review_as_entered": "Som indtastet",
        "review_row_name": "Navn",
        "review_row_first_last_name": "Fornavn / efternavn",
        "review_row_customer_type": "Type",
        "review_row_legal_form": "Selskabsform",
        "review_row_co_name": "c/o",
        "review_row_street": "Vej",
        "review_row_floor_door": "Etage / dør",
        "review_row_postal_code_city": "Postnr. / by",
        "review_row_country": "Land",
        "review_row_phone": "Telefon",
        "review_row_email": "E-mail",
        "review_row_cvr": "CVR",
        "review_row_ean": "EAN",
        "review_row_registry_name": "Navn i CVR",
        "review_row_registry_status": "Status i CVR",
        "review_row_flags": "Årsagskoder",
        "review_row_customer": "Kunde (antal poster)",
        "review_evidence": "Det taler for og imod",
        "review_group_for": "Taler for samme kunde",
        "review_group_against": "Taler imod samme kunde",
        "review_group_neutral": "Siger intet",
        "review_evidence_for": "{strength} bevis for, at det er samme kunde",
        "review_evidence_against": "{strength} bevis imod, at det er samme kunde",
        "review_no_evidence": "intet bevis",
        "review_strength_weak": "svagt",
        "review_strength_some": "noget",
        "review_strength_strong": "stærkt",
        "review_strength_very_strong": "meget stærkt",
        "review_factor_more": "{times}× mere sandsynligt",
        "review_factor_less": "{times}× mindre sandsynligt",
        "review_field_name": "Navn",
        "review_field_first_name": "Fornavn",
        "review_field_last_name": "Efternavn",
        "review_field_address": "Adresse",
        "review_field_street": "Vej",
        "review_field_house_number": "Husnummer",
        "review_field_postal_code": "Postnummer",
        "review_field_city": "By",
        "review_field_address_line2": "Adresselinje 2",
        "review_field_date_of_birth": "Fødselsdato",
        "review_field_national_id": "Personnummer",
        "review_field_person_id": "Person",
        "review_field_phone": "Telefon",
        "review_field_email": "E-mail",
        "review_field_contact": "Kontaktperson",
        "review_field_cvr": "CVR-nummer",
        "review_field_ean": "EAN-nummer",
        "review_part_street": "vej",
        "review_part_house_number": "husnummer",
        "review_part_unit": "etage/dør",
        "review_part_postal_code": "postnummer",
        "review_level_exact": "ens",
        "review_level_missing": "ikke sammenlignet",
        "review_level_different": "forskellige",
        "review_level_most_words": "de fleste ord er fælles",
        "review_level_somewhat_alike": "noget ens",
        "review_level_very_alike": "meget ens",
        "review_level_somewhat_alike_3_edits": "noget ens, men tre eller flere tegn forskellige",
        "review_level_somewhat_alike_or_one_edit": "noget ens eller ét tegn fra hinanden",
        "review_level_one_edit": "ét tegn fra hinanden",
        "review_level_two_of_date": (
            "to af år, måned og dag er ens, eller dag og måned er byttet om"
        ),
        "review_level_initial": (
            "forbogstav eller første fornavn er ens, eller det ene er et kaldenavn (Bill, William)"
        ),
        "review_level_same_postal_code": "samme postnummer, anden vej",
        "review_level_same_street": "samme vej, andet husnummer",
        "review_level_same_street_and_number": "samme vej og husnummer",
        "review_level_same_building_other_unit": "samme opgang, anden etage eller dør",
        "review_level_same_building": "samme opgang; etage eller dør kun på den ene",
        "review_level_same_number": "samme husnummer, andet bogstav",
        "review_level_shared_number": "et fælles nummer",
        "review_level_shared_address": "en fælles adresse",
        "review_level_personal_addresses": "forskellige private adresser (gratis mail)",
        "review_registry": "CVR-registret",
        "review_registry_cvr": "CVR {cvr}: {name}",
        "review_not_in_registry": "ikke i CVR-registret",
        "review_no_cvr": "intet CVR-nummer",
        "review_if_same": "Hvis de er samme kunde",
        "review_preview_one": "Kunde {customers} bliver én kunde med {members} poster",
        "review_preview_many": "Kunderne {customers} bliver én kunde med {members} poster",
        "review_preview_survivor": "; post {survivor} overlever",
        "review_preview_merged_one": ", og {merged} lægges ind i den",
        "review_preview_merged_many": ", og {merged} lægges ind i den",
        "review_and": " og ",
        "review_golden_name": "Navn",
        "review_golden_legal_form": "Selskabsform",
        "review_golden_street": "Vej",
        "review_golden_house_number": "Husnummer",
        "review_golden_floor": "Etage",
        "review_golden_door": "Dør",
        "review_golden_postal_code": "Postnummer",
        "review_golden_city": "By",
        "review_golden_country": "Land",
        "review_golden_phone_e164": "Telefon",
        "review_golden_email": "E-mail",
        "review_golden_cvr": "CVR",
        "review_golden_vat_number": "Momsnummer",
        "review_golden_ean": "EAN",
        "review_golden_customer_type": "Type",
        "review_rule_registry": "fra CVR-registret",
        "review_rule_most_frequent": "står på flest poster",
        "review_rule_most_recent": "fra den senest opdaterede post",
        "review_rule_most_complete": "fra den mest fuldstændige post",
        "review_rule_from": "{rule} ({record})",
        "review_error_no_pair": "intet sådant par",
        # Beside a CRM value whose cleaned value is empty, for a cell that held a CPR number: the
        # re-import does not leave it as is (``not_usable``), it empties it (``0101801234`` in
        # Telefon) or takes the number off it (``1234567 010190-1234`` in CVR-nr → ``1234567``).
        "cpr_emptied": "CPR-nummer: feltet tømmes i CRM ved genindlæsning",
        "cpr_stripped": "CPR-nummeret fjernes i CRM ved genindlæsning, resten står",
        # CPR_IN_DATA's input columns, by their own names, and what the re-import does there
        "cpr_where": "CPR-nummeret stod i: {columns}.",
        "cpr_where_left_out": (
            "{column} (kolonnen er udeladt af genindlæsningen: slet CPR-nummeret her i CRM)"
        ),
        "cpr_where_written": "{column} (genindlæsningen fjerner det)",
        "cpr_where_key": "{column} (kundenummeret: rækken er udeladt af genindlæsningen)",
        "sum_cpr_columns": "Kolonner med CPR-numre",
        "sum_cpr_columns_note": (
            "udeladt af customers_update.csv: {columns}. datavask skriver ikke i dem, og"
            " indlæst ville maskeringen XXXXXX-XXXX overskrive CRM'ets værdier; slet"
            " CPR-numrene i dem i CRM (se Datakvalitet)"
        ),
        # the date of birth of a customer whose code is about it (MINOR: "… or correct the date
        # of birth if it is wrong"), under the name and in the worklist
        "born": "født",
        "x_date_of_birth": "fødselsdato",
    },
    "en": {
        "title": "Customer master data: quality report",
        "report": "datavask report",
        "run": "run",
        "started": "started",
        "finished": "finished",
        "copenhagen_time": "Copenhagen time",
        "records": "{n|record|records}",
        "records_note": "rows in the input",
        "customers": "{n|customer|customers}",
        "customers_note": "after merging duplicates",
        "definition": (
            "A record is one row of the input. A customer is the records datavask found to be "
            "the same customer (duplicates merged). Lists and numbers below count customers; "
            "the number of records is in brackets."
        ),
        "invoice_ready": "invoice-ready",
        "invoice_ready_note": "records with nothing that blocks invoicing",
        "collection_ready": "collection-ready",
        "collection_ready_note": "and nothing that blocks collection",
        "settled_note": (
            "{n} more {n|record lacks|records lack} a number the customer's other record holds: "
            "the customer can be invoiced"
        ),
        "duplicate_records": "{n|duplicate|duplicates}",
        "duplicate_records_note": "records that merge into another record",
        "clusters_with_duplicates": "{n|customer|customers} with duplicates",
        "clusters_with_duplicates_note": "customers with two or more records",
        "customers_blocked_invoice": "{n|customer|customers} cannot be invoiced",
        "customers_blocked_collection": "{n|customer|customers} cannot go to collection",
        "customers_registry_events": "{n|customer|customers} with registry events",
        "pairs_review": "{n|pair waits|pairs wait} for review",
        "share_of_records": "of records",
        "n_records": "{n} {n|record|records}",
        "n_customers": "{n} {n|customer|customers}",
        "section_invoice": "Cannot be invoiced",
        "section_invoice_lead": (
            "{n} {n|customer|customers} ({records} {records|record|records}) cannot be invoiced "
            "until their master data is fixed. Why, and what to do:"
        ),
        "section_collection": "Cannot go to collection",
        "section_collection_lead": (
            "{n} {n|customer|customers} ({records} {records|record|records}) can be invoiced but "
            "cannot go to collection. In all, {total} {total|customer|customers} cannot go to "
            "collection (those that cannot be invoiced cannot either)."
        ),
        "section_registry": "Registry events",
        "section_registry_lead": (
            "{n} {n|customer has|customers have} an event in the CVR registry: bankruptcy, "
            "dissolution, compulsory dissolution or restructuring, a new name or a new address."
        ),
        "section_alerts": "Monitoring: changes since the last run",
        "section_alerts_lead": (
            "{n} {n|change|changes} in the registry since the last monitoring run."
        ),
        "section_duplicates": "Duplicates to merge",
        "section_duplicates_lead": (
            "{n} {n|customer has|customers have} {records} {records|record|records} in all; {extra}"
            " of them {extra|is a duplicate|are duplicates}. Keep "
            "the surviving record and merge the others into it (file reimport/merge_plan.csv)."
        ),
        "section_quality": "Data quality",
        "section_quality_lead": (
            "{n} {n|customer has|customers have} an invalid phone number or e-mail, a CPR number "
            "in a field, or could not be looked up in the registry. None of this blocks invoicing."
        ),
        "section_review": "Possible duplicates to review",
        "section_review_lead": (
            "{n} {n|pair|pairs} of records {n|looks|look} alike, but not enough to be merged "
            "automatically (probability from {low} to {high}). Start the review with:"
        ),
        "section_review_lead_held": (
            "{n} {n|pair|pairs} of records {n|needs|need} a person's review. {band} of them"
            " {band|looks|look} alike, but not enough to be merged automatically (probability"
            " from {low} to {high}); {held} {held|scores|score} higher, but {held|is|are} held for"
            " review by a rule — see the column “{why}”. Start the review with:"
        ),
        "section_review_lead_all_held": (
            "{n} {n|pair|pairs} of records {n|scores|score} above the review band ({low} to"
            " {high}), but {n|is|are} held for review by a rule — see the column “{why}”. Start"
            " the review with:"
        ),
        "section_review_none": "No pairs wait for review.",
        "decisions_obeyed": (
            "This run obeyed {n} {n|decision|decisions} from datavask review "
            "({same} same, {different} different)."
        ),
        "decisions_not_obeyed": "{n} could not be obeyed:",
        "section_nothing": "No customers in this group.",
        "completeness": "Fields filled in before and after cleaning",
        "field": "field",
        "before": "before",
        "in_crm": "in the CRM",
        "after": "after",
        "not_in_input": "not in input",
        "registry_classes": "Customers by registry status",
        "registry_skipped": (
            "Registry checks skipped: the run had --registry none. Bankruptcy, dissolution and "
            "renames were not checked."
        ),
        "registry_uncovered": (
            "Warning: the registry this run used ({source}) knew only {known} of {checked} "
            "{checked|valid CVR number|valid CVR numbers}. It does not cover this file's companies "
            "(the bundled sample, or an old or partial snapshot?), so CVR_NOT_FOUND does not say "
            "the numbers were mistyped, and bankruptcy, dissolution and renames were not checked "
            "for them. Run again with --registry set to a full snapshot (datavask registry sync) "
            "or ERST's API."
        ),
        "action_cvr_not_found_uncovered": (
            "Check the registry the run used first: it knew almost none of the file's CVR "
            "numbers (see the warning at the top of the report)."
        ),
        "status": "status",
        "erst_status": "ERST status (raw)",
        "reason": "reason",
        "what_to_do": "what to do",
        "count": "count",
        "col_customer": "customer",
        "col_records": "customer no.",
        "col_name": "name",
        "col_address": "address",
        "col_contact": "phone / e-mail",
        "col_cvr": "CVR / EAN",
        "col_registry": "CVR registry",
        "col_reasons": "reasons",
        "col_survivor": "surviving record",
        "col_merged": "merged into it",
        "col_plan": "in the CRM",
        "col_score": "weakest probability",
        "col_events": "event",
        "col_flagged": "records with the reason",
        "search": "Search",
        "search_hint": "name, customer no., CVR, city …",
        "filter_all": "all reasons",
        "page": "page",
        "of": "of",
        "previous": "previous",
        "next": "next",
        "shown": "{shown} of {total} {total|customer|customers}",
        "shown_pairs": "{shown} of {total} {total|pair|pairs}",
        "shown_alerts": "{shown} of {total} {total|change|changes}",
        "not_usable": "not usable, left as is in the CRM",
        "empty": "empty",
        "cvr_link_title": "Open the company on datacvr.virk.dk",
        "event_bankrupt": "bankrupt",
        "event_dissolved": "dissolved",
        "event_distressed": "compulsory dissolution/liquidation/restructuring",
        "event_renamed": "new name",
        "event_renamed_why": "The registry has a newer name for the company than the CRM.",
        "event_moved": "new address",
        "class_active": "active",
        "class_distressed": "distressed",
        "class_bankrupt": "bankrupt",
        "class_dissolved": "dissolved",
        "class_not_found": "not found",
        "class_unchecked": "not checked",
        "class_no_cvr": "no valid CVR",
        "class_person": "private customer",
        "about": "About this run",
        "input_file": "input file",
        "format": "format",
        "mapping": "columns",
        "date_parts": "year, month, day",
        "registry": "registry source",
        "registry_none": "none (--registry none)",
        "review_band": "review band",
        "review_band_derived": "derived from the model for this file",
        "evaluation": "scored against the truth",
        "evaluation_text": (
            "blocking found {recall} of {pairs} true {pairs|pair|pairs} ({per_record} "
            "{per_record|candidate pair|candidate pairs} per record); clusters: precision "
            "{precision}, recall {found}, F1 {f1}"
        ),
        "orchestration": "orchestration",
        # run.json's ``orchestration`` note: flows.orchestration writes these very words
        "orchestration_disabled": "Prefect disabled (DATAVASK_ORCHESTRATION=none)",
        "orchestration_ephemeral": "Prefect's temporary server for this run",
        "orchestration_server": "Prefect server at {url}",
        "orchestration_not_answering": (
            "ran without Prefect: the Prefect server at {url} did not answer"
        ),
        "orchestration_serve": "Prefect server of datavask serve at {url}",
        "orchestration_local_server": "datavask's local Prefect server at {url}",
        "orchestration_no_server": (
            "ran without Prefect: no server configured (set PREFECT_API_URL or run datavask serve"
            " to see runs in Prefect)"
        ),
        "orchestration_serve_job": "datavask serve, Prefect server at {url}",
        "orchestration_flow_run": "Prefect flow run",
        "step": "step",
        "step_read": "reading input",
        "step_normalise": "normalising names, addresses, phones, e-mails, ids",
        "step_registry": "checking the CVR registry",
        "step_match": "finding duplicates",
        "step_verdict": "deciding flags, golden records, changes",
        "step_total_before_write": "total before writing outputs",
        "step_write": "writing outputs and report",
        "mapping_column": "input column",
        "mapping_field": "read as",
        "field_record_id": "customer number",
        "field_name": "name",
        "field_name_2": "name 2",
        "field_first_name": "first name",
        "field_last_name": "last name",
        "field_address": "address",
        "field_address_2": "address 2",
        "field_address_3": "address 3",
        "field_street": "street",
        "field_house_number": "house number",
        "field_floor": "floor",
        "field_door": "door",
        "field_postal_code": "postal code",
        "field_city": "city",
        "field_country": "country",
        "field_phone": "phone",
        "field_mobile": "mobile",
        "field_email": "e-mail",
        "field_cvr": "CVR number",
        "field_ean": "EAN number",
        "field_customer_type": "customer type",
        "field_date_of_birth": "date of birth",
        "field_updated_at": "last updated",
        "field_person_id": "person id",
        "time": "time",
        "seconds": "{n} s",
        "sum_in_steps": "in the steps",
        "versions": "versions",
        "reason_codes": "All reason codes",
        "blocks": "blocks",
        "blocks_invoice": "invoicing",
        "blocks_collection": "collection",
        "blocks_nothing": "nothing",
        "records_with_code": "records",
        "noscript": (
            "The tables need JavaScript (everything is in this one file; nothing is fetched)."
        ),
        "worklist_hint": "The same lists as a spreadsheet: worklist.xlsx in the same folder.",
        "changes": "changes",
        "changes_lead": (
            "{n} {n|field was|fields were} cleaned (file changes.csv and the Changes sheet)."
        ),
        "sum_input": "Input",
        "sum_records": "Records",
        "sum_customers": "Customers",
        "sum_duplicates": "Duplicates",
        "sum_duplicates_note": "records in {n} {n|customer|customers} with more than one record",
        "sum_invoice": "Invoice-ready",
        "sum_collection": "Collection-ready",
        "sum_blocked_invoice": "Cannot be invoiced",
        "sum_blocked_collection": "Cannot go to collection",
        "sum_registry": "Registry",
        "sum_registry_note": (
            "{n|CVR number|CVR numbers} checked, {not_found} not found, {unchecked} could not be "
            "checked"
        ),
        "sum_registry_skipped": "skipped",
        "sum_registry_skipped_note": "--registry none: no CVR checks were made",
        "sum_warning": "Warning",
        "sum_registry_uncovered": (
            "the registry knew only {known} of {checked} {checked|CVR number|CVR numbers}: it does "
            "not cover the file's companies; use --registry with a full snapshot or ERST's API"
        ),
        "sum_review": "To review",
        "sum_review_note": "{n|pair|pairs}: datavask review {run_dir}",
        "sum_top": "Top reasons",
        "sum_time": "Time",
        "sum_outputs": "Outputs",
        "sum_report": "report",
        "sum_no_name": "No name",
        "sum_no_name_note": (
            "no column was read as the customer's name; not read: {columns}. Name it with --mapping"
        ),
        "sum_masked_ids": "Customer numbers that are CPR numbers",
        "sum_masked_ids_note": (
            "masked and left out of customers_update.csv: the CRM cannot find these rows;"
            " see merge_plan.csv's row numbers"
        ),
        "sum_repeated_ids": "Customer numbers on several rows",
        "sum_repeated_ids_note": (
            "{ids} {ids|customer number|customer numbers} several customers share (rows {rows}): "
            "left out of customers_update.csv, where one customer would get the other's values; "
            "give each customer a number of its own in the CRM"
        ),
        "sum_input_problems": "Input problems",
        "sum_input_problems_note": (
            "{n|row|rows} with too many/few fields, the header again or a totals row"
            " (kept; see source_problem)"
        ),
        "sum_prefect": "Prefect run",
        "sum_decisions": "Decisions",
        "sum_decisions_note": (
            "pairs obeyed ({same} same, {different} different); the model agreed on {agreed},"
            " {band} were in the review band"
        ),
        "sum_decisions_row_numbers": (
            "warning: the input has no id column, so the decisions refer to row numbers:"
            " they fit only an input with the same rows in the same order"
        ),
        "sum_not_obeyed": "Not obeyed",
        "sum_not_obeyed_more": " (+{n} more in run.json)",
        "decision_problem_not_in_input": "record {record} is no longer in the input",
        "decision_problem_repeated_id": (
            "record {record} appears more than once in the input; which of them the decision"
            " was about is not known"
        ),
        "decision_problem_another_customer": (
            "record {record} is another customer now: {name_now}, not {name_then}"
        ),
        "decision_problem_name_gone": "record {record} has no name now; it was {name_then}",
        "decision_problem_two_cvrs": (
            "refused: 'same' would join two different CVR numbers ({cvr_l} and {cvr_r})"
        ),
        "decision_problem_empty_id": "line {line} of the decisions file has an empty record id",
        "decision_problem_same_record": (
            "line {line} of the decisions file pairs a record with itself"
        ),
        "decision_problem_unknown_decision": (
            "line {line} of the decisions file: '{value}' is neither 'same' nor 'different'"
        ),
        "records_customers": (
            "{records} {records|record|records} → {customers} {customers|customer|customers}"
        ),
        "sheet_invoice": "Cannot be invoiced",
        "sheet_collection": "Cannot go to collection",
        "sheet_registry": "Registry events",
        "sheet_duplicates": "Duplicates to merge",
        "sheet_review": "Pairs to review",
        "sheet_changes": "Changes",
        "sheet_alerts": "Monitoring",
        "sheet_merge_plan": "Merge plan",
        "x_cluster": "customer id",
        "x_record_ids": "customer numbers",
        "x_flagged_ids": "customer numbers with the reason",
        "x_reasons": "reason codes",
        "x_why": "why",
        "x_todo": "what to do",
        "x_name": "name",
        "x_name_before": "name in CRM",
        "x_address": "address (cleaned)",
        "x_address_before": "address in CRM",
        "x_phone": "phone (cleaned)",
        "x_phone_before": "phone in CRM",
        "x_email": "e-mail (cleaned)",
        "x_email_before": "e-mail in CRM",
        "x_cvr": "CVR",
        "x_cvr_before": "CVR in CRM",
        "x_ean": "EAN",
        "x_ean_before": "EAN in CRM",
        "x_cvr_link": "CVR on virk.dk",
        "x_registry_name": "registry name",
        "x_registry_status": "ERST status",
        "x_registry_class": "status class",
        "x_registry_new": "registry's new name/address",
        "x_events": "events",
        "x_survivor": "surviving customer no.",
        "x_merged": "customer numbers merged into it",
        "x_score": "probability",
        "x_plan": "in the CRM",
        "x_left": "customer no. 1",
        "x_right": "customer no. 2",
        "x_left_name": "name 1",
        "x_right_name": "name 2",
        "x_left_address": "address 1",
        "x_right_address": "address 2",
        "x_probability": "probability of the same customer",
        "x_review_why": "why in review",
        "review_rule_score": "the score is in the review band",
        "review_rule_neighbours": "one name and street, two house numbers, nothing else shared",
        "review_rule_branches": "one CVR number, another name and address: two branches?",
        "review_rule_surnames": "one first name and address, two surnames: a new name, or two?",
        "review_rule_namesakes": "namesakes at one address, a mobile and e-mail each",
        "review_rule_every_pair": "no blocking key proposed the pair",
        "review_rule_link_component": "found only through a third record",
        "review_rule_cluster": "the customer's other records do not confirm it",
        "x_record_id": "customer no.",
        "x_field": "field",
        "x_before": "before",
        "x_after": "after",
        "x_rule": "rule",
        "x_field_name": "field name",
        "x_rule_text": "what datavask corrected",
        "x_alert": "change",
        "x_changed_at": "changed in registry",
        "x_detected_at": "detected",
        "crm_merge": "merge into the surviving record",
        "crm_bar": "update the surviving record; bar the others (barred=true)",
        "crm_hubspot": "merge into the surviving record (HubSpot merges two at a time)",
        "crm_salesforce": (
            "merge into the surviving record as master (Salesforce merges up to three)"
        ),
        "crm_dynamics": (
            "merge into the surviving record as master (Dynamics 365 merges two at a time)"
        ),
        # datavask review's page (connectors/review): every word on it
        "review_title": "datavask review — {run}",
        "review_heading": "datavask review",
        "review_meta": "run {run} · decisions in {decisions} · reviewer {reviewer}",
        "review_file_problems_one": "1 unreadable line in the decisions file (ignored)",
        "review_file_problems_many": "{n} unreadable lines in the decisions file (ignored)",
        "review_progress": "{decided} of {total} decided",
        "review_done": "Every pair is decided",
        "review_done_where": "The decisions are in {path}. The next run obeys them:",
        "review_done_back": "Press {key} to go back over the pairs.",
        "review_none": "This run left no pairs for review.",
        "review_same": "same",
        "review_different": "different",
        "review_skip": "skip",
        "review_undo": "undo",
        "review_key_space": "Space",
        "review_note": "Note (N to write, Esc to leave) — saved with the next decision",
        "review_saved": "Saved: pair {n} {decision} ({at})",
        "review_not_saved": "NOT saved: pair {n} ({error}) — decide it again",
        "review_not_loaded": "Could not load pair {n}: {error}",
        "review_nothing_to_undo": "Nothing to undo in this session",
        "review_decision_same": "same",
        "review_decision_different": "different",
        "review_decision_undecided": "undone",
        "review_pair": "Pair {n} of {total}: records {left} and {right}",
        "review_probability": "The model puts the chance that these are one customer at {percent}.",
        "review_why_neighbours": (
            "In review despite the score: one name on one street with two house numbers and no"
            " phone, e-mail, CVR or EAN number or date of birth in common — two neighbours of one"
            " name, a move, or a house number mistyped."
        ),
        "review_why_branches": (
            "In review despite the score: one CVR number, but another name and another address —"
            " two branches of one company, each with its own account, or one moved and renamed."
        ),
        "review_why_surnames": (
            "In review despite the score: one first name at one address, but two surnames and no"
            " e-mail, date of birth or id in common — one person who took a spouse's name, or two"
            " people of one household."
        ),
        "review_why_namesakes": (
            "In review despite the score: two of one name at one address sharing a number, each"
            " with a mobile and an e-mail of their own — father and son as often as one person"
            " with a new number."
        ),
        "review_why_every_pair": (
            "In review despite the score: no blocking key proposed the pair (only the comparison"
            " of every pair of a small file); the machine does not merge on that alone."
        ),
        "review_why_link_component": (
            "In review despite the score: the pair was found only because both records are linked"
            " to a third; the machine does not merge on that alone."
        ),
        "review_why_cluster": (
            "In review despite the score: the merge would join customers their other records do"
            " not confirm, or records kept apart (two CVR or EAN numbers)."
        ),
        "review_at_stake": "At stake:",
        "review_stake_company_person": "joins a company to a person",
        "review_stake_both_invoice_ready": "both records are invoice-ready",
        "review_stake_cvr_or_ean": "a CVR or EAN number is at stake",
        "review_stake_several_records": "joins customers that already have several records",
        "review_same_customer": (
            "These two records are already one customer ({cluster}) through other records."
            " {different} splits them apart."
        ),
        "review_standing": "Decided {decision} by {by} at {at}{note}. A new decision overrides it.",
        "review_history": "Earlier decisions on this pair",
        "review_history_line": "{decision} by {by} at {at}{note}",
        "review_record": "Record {id}",
        "review_cleaned": "Cleaned values",
        "review_as_entered": "As entered",
        "review_row_name": "Name",
        "review_row_first_last_name": "First / last name",
        "review_row_customer_type": "Type",
        "review_row_legal_form": "Legal form",
        "review_row_co_name": "c/o",
        "review_row_street": "Street",
        "review_row_floor_door": "Floor / door",
        "review_row_postal_code_city": "Postal code / city",
        "review_row_country": "Country",
        "review_row_phone": "Phone",
        "review_row_email": "E-mail",
        "review_row_cvr": "CVR",
        "review_row_ean": "EAN",
        "review_row_registry_name": "Registry name",
        "review_row_registry_status": "Registry status",
        "review_row_flags": "Flags",
        "review_row_customer": "Customer (records)",
        "review_evidence": "The evidence for and against",
        "review_group_for": "For the same customer",
        "review_group_against": "Against the same customer",
        "review_group_neutral": "Says nothing",
        "review_evidence_for": "{strength} evidence for the same customer",
        "review_evidence_against": "{strength} evidence against them being one customer",
        "review_no_evidence": "no evidence",
        "review_strength_weak": "weak",
        "review_strength_some": "some",
        "review_strength_strong": "strong",
        "review_strength_very_strong": "very strong",
        "review_factor_more": "{times}× more likely",
        "review_factor_less": "{times}× less likely",
        "review_field_name": "Name",
        "review_field_first_name": "First name",
        "review_field_last_name": "Last name",
        "review_field_address": "Address",
        "review_field_street": "Street",
        "review_field_house_number": "House number",
        "review_field_postal_code": "Postal code",
        "review_field_city": "City",
        "review_field_address_line2": "Address line 2",
        "review_field_date_of_birth": "Date of birth",
        "review_field_national_id": "Personal id",
        "review_field_person_id": "Person",
        "review_field_phone": "Phone",
        "review_field_email": "E-mail",
        "review_field_contact": "Contact person",
        "review_field_cvr": "CVR number",
        "review_field_ean": "EAN number",
        "review_part_street": "street",
        "review_part_house_number": "house number",
        "review_part_unit": "floor/door",
        "review_part_postal_code": "postal code",
        "review_level_exact": "identical",
        "review_level_missing": "not compared",
        "review_level_different": "different",
        "review_level_most_words": "most words shared",
        "review_level_somewhat_alike": "somewhat alike",
        "review_level_very_alike": "very alike",
        "review_level_somewhat_alike_3_edits": "somewhat alike, but three or more characters apart",
        "review_level_somewhat_alike_or_one_edit": "somewhat alike or one character apart",
        "review_level_one_edit": "one character apart",
        "review_level_two_of_date": "two of year, month and day agree, or day and month swapped",
        "review_level_initial": (
            "an initial or the first given name agrees, or one is a nickname (Bill, William)"
        ),
        "review_level_same_postal_code": "same postal code, other street",
        "review_level_same_street": "same street, other house number",
        "review_level_same_street_and_number": "same street and house number",
        "review_level_same_building_other_unit": "same building, other floor or door",
        "review_level_same_building": "same building; floor or door on one record only",
        "review_level_same_number": "same house number, other letter",
        "review_level_shared_number": "a number in common",
        "review_level_shared_address": "an address in common",
        "review_level_personal_addresses": "different personal addresses (free mail)",
        "review_registry": "The registry",
        "review_registry_cvr": "CVR {cvr}: {name}",
        "review_not_in_registry": "not in the registry",
        "review_no_cvr": "no CVR number",
        "review_if_same": "If they are the same",
        "review_preview_one": "Customer {customers} becomes one customer of {members} records",
        "review_preview_many": "Customers {customers} become one customer of {members} records",
        "review_preview_survivor": "; record {survivor} survives",
        "review_preview_merged_one": ", {merged} is merged into it",
        "review_preview_merged_many": ", {merged} are merged into it",
        "review_and": " and ",
        "review_golden_name": "Name",
        "review_golden_legal_form": "Legal form",
        "review_golden_street": "Street",
        "review_golden_house_number": "House number",
        "review_golden_floor": "Floor",
        "review_golden_door": "Door",
        "review_golden_postal_code": "Postal code",
        "review_golden_city": "City",
        "review_golden_country": "Country",
        "review_golden_phone_e164": "Phone",
        "review_golden_email": "E-mail",
        "review_golden_cvr": "CVR",
        "review_golden_vat_number": "VAT number",
        "review_golden_ean": "EAN",
        "review_golden_customer_type": "Type",
        "review_rule_registry": "from the CVR registry",
        "review_rule_most_frequent": "held by most records",
        "review_rule_most_recent": "from the most recently updated record",
        "review_rule_most_complete": "from the most complete record",
        "review_rule_from": "{rule} ({record})",
        "review_error_no_pair": "no such pair",
        "cpr_emptied": "CPR number: the re-import empties the field in the CRM",
        "cpr_stripped": "the re-import takes the CPR number off in the CRM, the rest stays",
        "cpr_where": "The CPR number was in: {columns}.",
        "cpr_where_left_out": (
            "{column} (column left out of the re-import: delete the CPR number there in the CRM)"
        ),
        "cpr_where_written": "{column} (the re-import takes it off)",
        "cpr_where_key": "{column} (the customer number: the row is left out of the re-import)",
        "sum_cpr_columns": "Columns with CPR numbers",
        "sum_cpr_columns_note": (
            "left out of customers_update.csv: {columns}. datavask writes nothing into them, and"
            " loaded, the mask XXXXXX-XXXX would overwrite the CRM's values; delete the CPR"
            " numbers in them in the CRM (see Data quality)"
        ),
        "born": "born",
        "x_date_of_birth": "date of birth",
    },
}

# merge_plan.csv's crm_action values (reimport.py), as the catalogue keys that translate them.
CRM_ACTIONS: Final = {
    "merge into survivor": "crm_merge",
    "update survivor; set barred=true on merged": "crm_bar",
    "merge into survivor (HubSpot merges two records at a time)": "crm_hubspot",
    "merge into survivor as master record (Salesforce merges up to three at once)": (
        "crm_salesforce"
    ),
    "merge into survivor as master record (Dynamics 365 merges two at a time)": "crm_dynamics",
}

_MONTHS: Final = {
    "da": (
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "maj",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "okt.",
        "nov.",
        "dec.",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


# A word that takes the number of a value: ``{n|kunde|kunder}``, singular then plural. Danish
# and English both have one singular, for 1 (Danish "1 kunde", "0 kunder", "21 kunder").
_PLURAL: Final = re.compile(r"\{(\w+)\|([^{}|]*)\|([^{}|]*)\}")


def _is_one(value: object) -> bool:
    """A count of one, as a number or as :meth:`Text.number` wrote it (``"1"``)."""
    return value == 1 or (isinstance(value, str) and value.strip() == "1")


def _note_pattern(template: str) -> re.Pattern[str]:
    """An English ``orchestration_*`` text as a pattern whose ``{url}`` is a named group."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(f"(?P<{p}>.+)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    )


# The notes run.json's ``orchestration`` holds: flows.orchestration, serve and the Prefect flow
# write them in the English catalogue's words, so a new note without a translation is a new key.
_ORCHESTRATION_NOTES: Final = tuple(
    (key, _note_pattern(text))
    for key, text in MESSAGES["en"].items()
    if key.startswith("orchestration_")
)


def check_language(lang: str) -> str:
    """``lang`` when the catalogue has it; ValueError naming the choices otherwise."""
    if lang not in LANGUAGES:
        raise ValueError(f"--lang must be one of {', '.join(LANGUAGES)} (got {lang!r})")
    return lang


class Text:
    """The catalogue, numbers and times of one language: ``Text("da")("customers")``."""

    def __init__(self, lang: str = "da", *, registry_uncovered: bool = False) -> None:
        """``registry_uncovered``: the run's registry knew almost none of the file's CVR numbers
        (``run.json`` ``steps.registry.uncovered``), so CVR_NOT_FOUND's action blames the
        registry, not the typist."""
        self.lang = check_language(lang)
        self.messages = MESSAGES[lang]
        self.registry_uncovered = registry_uncovered

    def __call__(self, key: str, **values: object) -> str:
        """The text of ``key`` with ``values`` filled in, each ``{n|kunde|kunder}`` of it the
        singular where ``n`` is 1 and the plural otherwise (also where no ``n`` is given: the
        word as a heading).

        >>> Text("da")("n_customers", n="1"), Text("da")("n_customers", n="2")
        ('1 kunde', '2 kunder')
        >>> Text("en")("customers"), Text("en")("customers", n=1)
        ('customers', 'customer')
        """
        text = _PLURAL.sub(
            lambda m: m[2] if _is_one(values.get(m[1])) else m[3], self.messages[key]
        )
        return text.format(**values) if values else text

    def flag_text(self, code: str) -> str:
        return FLAG_TEXT[self.lang][code]

    def rule_text(self, rule: str) -> str:
        """What a rule of changes.csv did (``phone_e164``); an unknown one as written."""
        return RULE_TEXT[self.lang].get(rule, rule)

    def flag_action(self, code: str) -> str:
        if code == "CVR_NOT_FOUND" and self.registry_uncovered:
            return self("action_cvr_not_found_uncovered")
        return FLAG_ACTION[self.lang][code]

    def flag_actions(self) -> dict[str, str]:
        """What to do about each code, in this language and for this run."""
        return {code: self.flag_action(code) for code in FLAG_ACTION[self.lang]}

    def crm_action(self, action: str | None) -> str:
        """merge_plan.csv's instruction in this language (an unknown one as written)."""
        key = CRM_ACTIONS.get(action or "")
        return self(key) if key else (action or "")

    def decision_problem(self, problem: dict[str, Any]) -> str:
        """Why a reviewer's decision was not obeyed (an entry of run.json's
        ``steps.match.decisions.problems``), in this language: its ``reason`` worded with its
        ``values``. An entry of a run made before reasons were written has its English
        ``problem`` only, which is shown as it is."""
        key = f"decision_problem_{problem.get('reason')}"
        if key in self.messages:
            with contextlib.suppress(KeyError, IndexError):
                return self(key, **(problem.get("values") or {}))
        return str(problem.get("problem", ""))

    def orchestration(self, note: str) -> str:
        """run.json's ``orchestration`` note in this language. The note stays the English the
        run wrote (a machine reads it too); a note in the words of one of the catalogue's
        ``orchestration_*`` texts is worded anew with its values, any other is shown as written.

        >>> Text("da").orchestration("Prefect server at http://127.0.0.1:4200/api")
        'Prefect-serveren på http://127.0.0.1:4200/api'
        >>> Text("da").orchestration("something new")
        'something new'
        """
        for key, pattern in _ORCHESTRATION_NOTES:
            if found := pattern.fullmatch(note):
                return self(key, **found.groupdict())
        return note

    def step(self, name: str) -> str:
        """A step of run.json's ``timings`` (``normalise``) as the reader says it; an unknown
        one as written."""
        return self.messages.get(f"step_{name}", name)

    def field(self, name: str) -> str:
        """A canonical field (``postal_code``) as the reader says it (``postnummer``); an
        unknown one as written."""
        return self.messages.get(f"field_{name}", name)

    def number(self, value: float | None, decimals: int = 0) -> str:
        """``1.234.567`` and ``87,5`` in Danish, ``1,234,567`` and ``87.5`` in English."""
        if value is None:
            return "–"
        text = f"{value:,.{decimals}f}"
        if self.lang == "da":
            text = text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
        return text

    def percent(self, part: float | None, whole: float | None, decimals: int = 1) -> str:
        """``part`` as a share of ``whole``: ``85,8 %`` / ``85.8%``; ``–`` without a whole."""
        if part is None or not whole:
            return "–"
        number = self.number(100.0 * part / whole, decimals)
        return f"{number} %" if self.lang == "da" else f"{number}%"

    def probability(self, value: float) -> str:
        """A match probability as a percentage with as many decimals as it needs (99,6 %)."""
        decimals = 0
        while decimals < 3 and abs(round(value * 100, decimals) - value * 100) > 1e-9:
            decimals += 1
        return self.percent(value, 1.0, decimals)

    def chance(self, value: float) -> str:
        """A match probability as a reviewer reads it: whole percent, but never a 100 % or 0 %
        that it is not, so a decimal more where rounding would say so.

        >>> Text("da").chance(0.9069), Text("da").chance(0.997), Text("en").chance(0.0004)
        ('91 %', '99,7 %', '0.04%')
        >>> Text("da").chance(0.9996), Text("da").chance(1.0)
        ('99,96 %', '100 %')
        """
        decimals = 0
        while decimals < 3 and 0 < value < 1 and round(value * 100, decimals) in (0, 100):
            decimals += 1
        return self.percent(value, 1.0, decimals)

    def time(self, iso: str | None) -> str:
        """An ISO timestamp (UTC or with offset) in Copenhagen time; ``–`` when missing."""
        if not iso:
            return "–"
        try:
            moment = datetime.fromisoformat(str(iso))
        except ValueError:
            return str(iso)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(COPENHAGEN)
        month = _MONTHS[self.lang][local.month - 1]
        if self.lang == "da":
            return f"{local.day}. {month} {local.year} kl. {local:%H.%M}"
        return f"{local.day} {month} {local.year}, {local:%H:%M}"

    def date(self, iso: str | None) -> str:
        """An ISO date (a registry's ``2026-10-15``, no time of day to move into Copenhagen's)
        as ``15. okt. 2026`` / ``15 Oct 2026``; empty when missing, as written when no date.

        >>> Text("da").date("2026-10-15"), Text("en").date("2026-10-15"), Text().date("?")
        ('15. okt. 2026', '15 Oct 2026', '?')
        """
        if not iso:
            return ""
        try:
            day = date.fromisoformat(str(iso)[:10])
        except ValueError:
            return str(iso)
        month = _MONTHS[self.lang][day.month - 1]
        return (
            f"{day.day}. {month} {day.year}"
            if self.lang == "da"
            else f"{day.day} {month} {day.year}"
        )
