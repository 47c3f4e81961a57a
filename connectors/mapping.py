"""Which input column holds which canonical field.

Headers are matched after folding (case, spaces, punctuation), against synonyms in English, Danish
and the customer exports of e-conomic, Dinero, Billy, HubSpot, Salesforce, Business Central,
Uniconta, Dynamics 365 and Pipedrive. A ``--mapping`` TOML
file (``[columns]`` from canonical field to input column) overrides the automatic choice; a date of
birth written in three columns is named by a list, ``date_of_birth = ["by", "bm", "bd"]`` (year,
month, day: :func:`load_date_parts`).

>>> auto_map(["Kundenr", "Navn", "Adresse", "Postnr", "By", "CVR-nr", "E-mail", "Telefon"])["cvr"]
'CVR-nr'
>>> auto_map(["customerNumber", "name", "zip", "corporateIdentificationNumber"])["postal_code"]
'zip'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Final

from datavask.cleansing.schema import CANONICAL_FIELDS
from datavask.connectors.errors import InputError, listed

# Folded header (see fold_header) -> canonical field. Order inside a field does not matter; when
# two input columns fold to synonyms of one field, the first column in the file wins.
_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "record_id": (
        "id",
        "recordid",
        "customerid",
        "customerno",
        "customernumber",
        "customernr",
        "kundenr",
        "kundenummer",
        "kundeid",
        "debitornr",
        "debitornummer",
        "debtornumber",
        "contactid",
        "kontaktid",  # Dinero's "Kontakt-ID"
        "kontaktnr",
        "kontaktnummer",
        "accountid",
        "accountnumber",
        "nr",
        "nummer",
        "number",
        "contactguid",
        "uniqueid",  # Splink's and many record-linkage data sets' "unique_id"
        "recid",  # FEBRL's "rec_id"
        "hsobjectid",
        # Uniconta's and C5's account, a debtor account
        "konto",
        "kontonr",
        "kontonummer",
        "debitorkonto",
        "contactno",
        "kundekonto",
        # what a business that serves private customers calls them: a telecom's or a newspaper's
        # subscriber, a housing association's lease, a clinic's patient, a club's member
        "abonnentnr",
        "abonnentnummer",
        "lejemålsnr",
        "lejemaalsnr",
        "lejemålsnummer",
        "lejernr",
        "lejernummer",
        "patientnr",
        "patientnummer",
        "medlemsnr",
        "medlemsnummer",
        "skyldnernr",
    ),
    "name": (
        "name",
        "navn",
        "firmanavn",
        "firma",
        "virksomhed",
        "virksomhedsnavn",
        "kundenavn",
        "companyname",
        "company",
        "accountname",
        "organisation",
        "organization",
        "customername",
        "fuldtnavn",
        "fullname",
        "contactname",
        "kontaktnavn",
        "debitornavn",
        "navn1",
        "defaultaddresscompany",  # Shopify's B2B customer: the company on the address
        "billingcompany",  # WooCommerce's
    ),
    # the second line of a name: Business Central's and Navision's "Navn 2" / "Name 2"
    "name_2": (
        "name2",
        "navn2",
        "firmanavn2",
        "kundenavn2",
        "companyname2",
        "customername2",
        "navnlinje2",
        "nameline2",
    ),
    # "fname"/"lname" as many data sets abbreviate them; a contact's names beside its company
    "first_name": (
        "firstname",
        "fornavn",
        "givenname",
        "forename",
        "fname",
        "contactfirstname",
        "kontaktfornavn",
    ),
    "last_name": (
        "lastname",
        "efternavn",
        "surname",
        "familyname",
        "lname",
        "contactlastname",
        "kontaktefternavn",
    ),
    "address": (
        "address",
        "addr",  # the restaurant sets' (Fodor's/Zagat's) and many others' abbreviation
        "adresse",
        "address1",
        "adresse1",
        "addressline",
        "addressline1",
        "adresselinje",
        "adresselinje1",
        "fulladdress",
        "postaladdress",
        "postadresse",
        "streetaddress",
        "billingaddress",
        "mailingaddress",
        "shippingaddress",
        "leveringsadresse",
        "fakturaadresse",
        # Dynamics 365's account and contact exports: "Address 1: Street 1"
        "address1street1",
        # Pipedrive's "Organization - Address - Full/combined address"
        "fullcombinedaddress",
    ),
    # the second line of an address: Business Central's and Uniconta's "Adresse 2" / "Address 2",
    # Dynamics 365's "Address 1: Street 2", HubSpot's "Street Address 2"
    "address_2": (
        "address2",
        "adresse2",
        "addressline2",
        "adresselinje2",
        "streetaddress2",
        "address1street2",
        "street2",
        "billingstreet2",
        "supplerendeadresse",
    ),
    # a third: Uniconta's "Adresse 3", Dynamics 365's "Address 1: Street 3"
    "address_3": (
        "address3",
        "adresse3",
        "addressline3",
        "adresselinje3",
        "streetaddress3",
        "address1street3",
        "street3",
    ),
    "street": (
        "street",
        "vej",
        "vejnavn",
        "gade",
        "gadenavn",
        "billingstreet",
        "mailingstreet",
        "shippingstreet",
        "streetname",
        "streetroadname",  # Pipedrive's "… - Address - Street/road name"
    ),
    "house_number": (
        "housenumber",
        "husnr",
        "husnummer",
        "streetnumber",
        "nr.",
        "husnr.",
        "no",
        "houseno",
        "streetno",
    ),
    "floor": ("floor", "etage", "sal"),
    "door": ("door", "doer", "dør", "side", "sidedør", "sidedoer", "apartment", "lejlighed"),
    "postal_code": (
        "zip",
        "zipcode",
        "postalcode",
        "postcode",
        "postnr",
        "postnummer",
        "postno",
        "billingpostalcode",
        "mailingpostalcode",
        "shippingpostalcode",
        "address1zippostalcode",  # Dynamics 365
        "address1postalcode",
        # Salesforce's report headers: "Billing Zip/Postal Code"
        "zippostalcode",
        "billingzippostalcode",
        "mailingzippostalcode",
        "shippingzippostalcode",
        "postnrby",
        # a combined column, read as a code with its city: "Postnr. og by", "Postnummer og by"
        "postnrogby",
        "postnummerogby",
        "postnummerby",
        "zipcity",
        # Zoho CRM's "Billing Code", "Mailing Zip"
        "billingcode",
        "shippingcode",
        "mailingcode",
        "billingzip",
        "shippingzip",
        "mailingzip",
        "zipcodetext",  # Billy's contacts: zipcodeText, cityText, countryId, contactNo
    ),
    "city": (
        "city",
        "by",
        "bynavn",
        "town",
        "suburb",  # Australian and British addresses (FEBRL)
        "postdistrikt",
        "billingcity",
        "mailingcity",
        "shippingcity",
        "postby",
        "poststed",
        "address1city",  # Dynamics 365
        "citytownvillagelocality",  # Pipedrive's "… - Address - City/town/village/locality"
        "citytext",
    ),
    "country": (
        "country",
        "land",
        "countrycode",
        "landekode",
        "countryregion",
        "billingcountry",
        "mailingcountry",
        "shippingcountry",
        "countryname",
        # Business Central: Lande-/områdekode, Country/Region Code
        "landeområdekode",
        "landområdekode",  # "Land/område-kode"
        "countryregioncode",
        "address1countryregion",  # Dynamics 365
        "address1country",
        "countryid",
    ),
    "phone": (
        "phone",
        "telefon",
        "tlf",
        "tlfnr",
        "telefonnr",
        "telefonnummer",
        "phonenumber",
        "telephone",
        "telephoneandfaxnumber",
        "telefonogfaxnummer",
        "telefonfax",
        "tel",
        "fastnet",
        "businessphone",
        "workphone",
        "arbejdstelefon",
        "privattelefon",
        "hjemmetelefon",
        "phoneno",
        "mainphone",  # Dynamics 365's accounts
        "billingphone",  # WooCommerce's
        # Pipedrive's kinds of number after the field ("Person - Phone - Work")
        "phonework",
        "phonehome",
        "phoneother",
    ),
    "mobile": (
        "mobile",
        "mobil",
        "mobiltelefon",
        "mobilnr",
        "mobilnummer",
        "mobilephone",
        "mobilephonenumber",
        "cellphone",
        "cell",
        "mobileno",
        "mobilephoneno",  # Business Central's "Mobile Phone No."
        "phonemobile",  # Pipedrive's "Person - Phone - Mobile"
    ),
    "email": (
        "email",
        "e-mail",
        "mail",
        "emailaddress",
        "emailadresse",
        "mailadresse",
        "epost",
        "workemail",
        "businessemail",
        "invoiceemail",
        "fakturamail",
        "fakturaemail",
        "emailwork",  # Pipedrive's "Person - Email - Work"
        "emailhome",
        "emailother",
    ),
    "cvr": (
        "cvr",
        "cvrnr",
        "cvrnummer",
        "cvrno",
        "corporateidentificationnumber",
        "corporateidentificationno",  # e-conomic's English export
        "vatnumber",
        "vatno",
        "vat",
        "vatid",
        "momsnr",
        "momsnummer",
        "senr",
        "senummer",
        "registrationno",
        "registrationnumber",
        "companyregistrationnumber",
        "companyno",
        "organisationsnummer",
        "virksomhedsnr",
        "cvrse",
        # Uniconta's CVR/SE nr., Business Central's SE/CVR-nr. and VAT Registration No.
        "cvrsenr",
        "secvr",
        "secvrnr",
        "vatregistrationno",
        "vatregistrationnumber",
        "vatregno",
        # English and combined headers: "CVR Number", "CVR-nr./SE-nr.", "CVR/VAT", "Company
        # Reg. No.", "Momsreg.nr."
        "cvrnumber",
        "cvrnrsenr",
        "cvrvat",
        "vatcvr",
        "companynumber",
        "companyregno",
        "companyregistrationno",
        "momsregistreringsnummer",
        "momsregnr",
        "taxid",  # Odoo's "Tax ID": DK12345674
        # SuperOffice's "Org.nr.", a Danish installation's CVR number
        "orgnr",
        "orgno",
        "organisationsnr",
    ),
    "ean": (
        "ean",
        "eannr",
        "eannummer",
        "ean13",
        "gln",
        "glnnumber",
        "eanlokationsnummer",
        "eanlokationsnr",
        "glnnr",
        "glnnummer",
        "eanno",
        # "EAN Number", "EAN-kode", "EAN/GLN", "Global Location Number"
        "eannumber",
        "eankode",
        "eangln",
        "glnean",
        "globallocationnumber",
        # a location number by its Danish name, and the invoice's: "Faktura EAN", "NemHandel EAN"
        "lokationsnummer",
        "lokationsnr",
        "fakturaean",
        "eanfaktura",
        "nemhandelean",
        "eannemhandel",
    ),
    "customer_type": (
        "customertype",
        "kundetype",
        # Dinero's and Billy's "Kontakttype" (Person / Virksomhed; Billy writes them lower case),
        # a debtor list's "Debitortype", an English "Contact type"; values that name no type
        # (a CRM's "Kunde", "Leverandør") say nothing (:func:`~datavask.cleansing.customer_type.
        # declared_type`), and the name and the CVR number decide
        "kontakttype",
        "contacttype",
        "debitortype",
        "debtortype",
        "type",
        "kundegruppe",
        "customergroup",
        "accounttype",
        "kategori",
        "category",
        "segment",
        "companytype",  # Odoo's "Company Type": Company or Individual
        # yes/no columns: whether the customer is a private person or a company (:func:`type_flag`)
        "erperson",
        "isperson",
        "erprivat",
        "isprivate",
        "privatperson",
        "privatkunde",
        "iscompany",
        "isacompany",
        "ervirksomhed",
        "erfirma",
        "privaterhverv",  # "Privat/Erhverv": a value of either
        "erhvervprivat",
    ),
    "date_of_birth": (
        "dateofbirth",
        "birthdate",
        "fødselsdato",
        "foedselsdato",
        "dob",
        "birthday",
        "født",
    ),
    "person_id": (
        "personid",
        "cpr",
        "cprnr",
        "cprnummer",
        "personnummer",
        "personnr",
        "ssn",
        "socialsecuritynumber",
        "socsecid",
        "nationalid",
        "nationalidentifier",
    ),
    "updated_at": (
        "updatedat",
        "updated",
        "lastmodified",
        "lastmodifieddate",
        "modifieddate",
        "modified",
        "lastupdated",
        "sidstændret",
        "sidstaendret",
        "ændret",
        "aendret",
        "opdateret",
        "senestændret",
        "senestaendret",
        "sidstopdateret",
        "senestopdateret",
        "lastchanged",
        "changedate",
        "systemmodstamp",
        # Dynamics 365: "Modified On", and "(Do Not Modify) Modified On" in an export made to be
        # imported again
        "modifiedon",
        "donotmodifymodifiedon",
        "updatetime",  # Pipedrive's "Organization - Update time"
    ),
}

_LOOKUP: Final[dict[str, str]] = {
    re.sub(r"[^0-9a-zæøå]", "", synonym): field
    for field, synonyms in _SYNONYMS.items()
    for synonym in synonyms
}

# Fields whose presence makes a file a customer list at all (an id or a country alone does not).
_SUBSTANTIVE: Final = frozenset(CANONICAL_FIELDS) - {
    "record_id",
    "country",
    "customer_type",
    "updated_at",
    "person_id",
}


def fold_header(header: str) -> str:
    """Case-fold a header, keeping only letters and digits: ``'CVR-nr.'`` → ``'cvrnr'``."""
    return re.sub(r"[^0-9a-zæøå]", "", header.casefold())


# Headers that say "number" and nothing more: a house number beside a street, else an id.
_NUMBER_ALONE: Final = frozenset({"nr", "no"})


# A header that names what the column belongs to before its field, as Pipedrive's exports do
# ("Organization - Name", "Person - Email"): the field is read from what follows.
_ENTITY_PREFIX: Final = re.compile(
    r"\s*(?P<entity>organi[sz]ation|org|person|contact|company|account|customer|kunde|kontakt|"
    r"virksomhed|firma)\s*[-–:]\s*(?P<field>.+)",
    re.IGNORECASE,
)


# Of a file's kinds of address, the one to invoice to is read (lowest first): a billing address,
# then the postal, then the street or visiting address, then a delivery address. The others are
# carried through untouched.
_ADDRESS_KIND_RANK: Final = {
    **dict.fromkeys(("billing", "invoice", "faktura", "fakturerings"), 0),
    **dict.fromkeys(("postal", "post", "mailing", ""), 1),
    **dict.fromkeys(("gade", "street", "besøgs", "besoegs", "visiting", "visit"), 2),
    **dict.fromkeys(("leverings", "levering", "delivery", "shipping"), 3),
    # Shopify's "Default Address …"; Outlook's "Business …", "Home …" and "Other …"
    **dict.fromkeys(("defaultaddress", "business"), 1),
    "home": 2,
    "other": 3,
}
# A part of an address named after it, as Pipedrive's exports do ("Organization - Address -
# ZIP/Postal code" beside "Organization - Address", the whole line as typed), or after the kind
# of address it is part of, as SuperOffice's do ("Postadresse - Postnummer" beside "Gadeadresse -
# Postnummer"). The longer kinds are tried first ("postal" before "post").
_ADDRESS_PART: Final = re.compile(
    r"\s*(?P<kind>"
    + "|".join(sorted(filter(None, _ADDRESS_KIND_RANK), key=len, reverse=True))
    + r")?\s*(?:address|adresse)\s*[-–:]\s*(?P<field>.+)",
    re.IGNORECASE,
)
# The kinds a plain header starts with (Salesforce's and Zoho's "Billing Street", "Shipping
# Code", Shopify's "Default Address City", Outlook's "Business Postal Code"), matched in the
# folded header: not "post", "gade" or "street", which start fields' own names (Postnr,
# Gadenavn).
_KIND_IN_HEADER: Final = re.compile(
    "billing|invoice|mailing|shipping|delivery|faktura|levering|defaultaddress|business|home|other"
)
# Google Contacts' numbered columns ("Address 1 - Street", "E-mail 1 - Value", "Phone 1 -
# Value"): the first of each is read, the part after it naming the field.
_NUMBERED: Final = re.compile(
    r"\s*(?P<what>e-?mail|phone|address)\s*1\s*-\s*(?P<part>.+)", re.IGNORECASE
)
_NUMBERED_VALUE: Final = {"email": "email", "e-mail": "email", "phone": "phone"}
# A part's own names that are no field's synonym elsewhere ("Sted": a place, in an address its
# town).
_ADDRESS_PART_NAMES: Final = {
    "sted": "city",
    "adresse": "address",
    "address": "address",
    "extendedaddress": "address_2",  # Google Contacts
}
_ADDRESS_FIELDS: Final = frozenset(
    {"address", "address_2", "address_3", "street", "house_number", "floor", "door", "postal_code",
     "city", "country"}
)  # fmt: skip


# A name column's header that says every row is an organisation: a CRM's company object
# (HubSpot's and Dynamics' "Company name", Pipedrive's "Organization - Name"), whose records are
# companies however their names read ("Nordisk Film", "Lego").
_ORGANISATION_HEADERS: Final = frozenset(
    {
        "company",
        "companyname",
        "organization",
        "organisation",
        "organizationname",
        "organisationname",
        "virksomhedsnavn",
    }
)
# The entities of :data:`_ENTITY_PREFIX` that are organisations ("Organization - Name").
_ORGANISATION_ENTITIES: Final = frozenset(
    {"organization", "organisation", "org", "company", "virksomhed", "firma"}
)


def organisations_named(mapping: Mapping[str, str]) -> str | None:
    """The name column's header when it says that every row is an organisation
    (:data:`_ORGANISATION_HEADERS`, or a name after an organisation's prefix), in a file with no
    first- or last-name column (beside them, a company column names a contact's company) and no
    customer type column of its own; else None."""
    column = mapping.get("name")
    if column is None or {"first_name", "last_name", "customer_type"} & mapping.keys():
        return None
    prefixed = _ENTITY_PREFIX.fullmatch(column)
    if fold_header(column) in _ORGANISATION_HEADERS or (
        prefixed is not None and prefixed["entity"].lower() in _ORGANISATION_ENTITIES
    ):
        return column
    return None


# Postal code headers that name the town too, folded (``Postnr/By``, ``PostnrBy``, ``Zip/City``),
# beside the ones naming both with a word between (``Postnr. og by``: :data:`_ALTERNATIVES`).
_POSTAL_CODE_AND_TOWN: Final = frozenset(
    {"postnrby", "postnrogby", "postnummerogby", "postnummerby", "zipcity"}
)


def postal_code_with_town(mapping: Mapping[str, str]) -> bool:
    """Whether the postal code column is one for the code and the town (``Postnr. og by``,
    ``Postnr/By``, ``Zip/City``) in a file without a city column: a code that goes back into
    an empty cell of it goes with its town (``7400 Herning``, the two found in the address line
    ``Postboks 123, 7400 Herning``), or the town would be written nowhere.

    >>> postal_code_with_town({"address": "Adresse", "postal_code": "Postnr. og by"})
    True
    >>> postal_code_with_town({"postal_code": "Postnr/By", "city": "By"})
    False
    >>> postal_code_with_town({"postal_code": "Postnr."})
    False
    """
    column = mapping.get("postal_code")
    if column is None or "city" in mapping:
        return False
    if fold_header(column) in _POSTAL_CODE_AND_TOWN:
        return True
    named = {_field_of(part) for part in _ALTERNATIVES.split(column) if fold_header(part)}
    return {"postal_code", "city"} <= named


# A type column whose values are a yes or a no, and the type a yes says: whether the customer is
# a private person (Dinero's "Er person" = true/false, an ERP's "Privatkunde" = Ja/Nej) or a
# company (Odoo's "Is a Company" = True/False).
_FLAG_HEADERS: Final = {
    **dict.fromkeys(
        ("erperson", "isperson", "erprivat", "isprivate", "privatperson", "privatkunde"), "person"
    ),
    **dict.fromkeys(("iscompany", "isacompany", "ervirksomhed", "erfirma"), "company"),
}


def type_flag(mapping: Mapping[str, str]) -> str | None:
    """The type a yes says where the customer-type column is a yes/no column
    (:data:`_FLAG_HEADERS`), a no saying the other (``person`` or ``company``); else None."""
    column = mapping.get("customer_type")
    return None if column is None else _FLAG_HEADERS.get(fold_header(column))


def _field_of(column: str) -> str | None:
    """The canonical field whose synonym ``column`` is, or is after an entity's name, or is an
    address's part after ``Address -``."""
    field = _LOOKUP.get(fold_header(column))
    if field is None and column.lower().endswith("__c"):
        # a Salesforce custom field's API name: CVR__c, EAN__c
        return _field_of(column[:-3])
    if field is None and (prefixed := _ENTITY_PREFIX.fullmatch(column)):
        column = prefixed["field"]
        field = _LOOKUP.get(fold_header(column))
    if field is None and (part := _ADDRESS_PART.fullmatch(column)):
        field = _address_part(part["field"])
    if field is None and (numbered := _NUMBERED.fullmatch(column)):
        what = numbered["what"].lower()
        if what == "address":
            field = _address_part(numbered["part"])
        elif fold_header(numbered["part"]) == "value":
            field = _NUMBERED_VALUE[what]
    if field is None and (kind := _KIND_IN_HEADER.match(fold_header(column))):
        field = _address_part(fold_header(column)[kind.end() :])
    if field is None and (first := _FIRST_OF_NUMBERED.fullmatch(column)):
        # "Email 1", "Telefon 1", "Mobil 1": the first of numbered columns ("Telefon 2" is read
        # as the mobile number only where there is none, see auto_map)
        field = _field_of(first["field"])
    if field is None and _ALTERNATIVES.search(column):
        # "Firmanavn/navn", "Navn eller firma", "Telefon/mobil": the first part naming a field.
        parts = (part for part in _ALTERNATIVES.split(column) if fold_header(part))
        field = next((f for part in parts if (f := _field_of(part)) is not None), None)
    return field


# A header naming the rows' name after what the rows are (folded: "sitename", "storename"),
# never a name of something else the row holds (a user's, a product's, a file's, a middle name).
_ENTITY_NAME: Final = re.compile(
    "(?:site|store|shop|business|org|organi[sz]ation|practice|school|clinic|agency|vendor"
    "|supplier|client|member|account|customer|company|firm|facility|provider|center|centre"
    "|restaurant|hotel|institution|legal|trading|registered|display|party|payer|payee|debtor"
    "|entity|establishment|location|branch|office|dealer|partner|tenant|employer|full|kunde"
    "|firma|virksomhed|leverandør|leverandoer|forhandler|butik|klinik|medlem|juridisk|lejer"
    "|debitor|modtager|betaler|skole|skyldner|patient|abonnent)s?(?:name|navn)"
)
# A header naming what the rows are and nothing more: the name where no column is the name. A
# collection agency's debtor (``Skyldner``) and a clinic's ``Patient`` are a person's name too.
_ROWS_ALONE: Final = frozenset(
    {"customer", "client", "kunde", "klient", "account", "debitor", "debtor", "skyldner", "patient"}
)
# The first of numbered columns of one field: "Email 1", "Telefon 1", "E-mail 1".
_FIRST_OF_NUMBERED: Final = re.compile(r"\s*(?P<field>.*\D)\s*[-_ ]?\s*1\s*")
# A header naming two things the column holds, either of them: "Firmanavn/navn", "Postnr. og by".
_ALTERNATIVES: Final = re.compile(r"\s*/\s*|\s+(?:og|eller|and|or|&)\s+", re.IGNORECASE)


def _address_part(part: str) -> str | None:
    """The address field a part's name (``Postnummer``, ``Sted``, ``Street``) names, or None."""
    folded = fold_header(part)
    field = _LOOKUP.get(folded, _ADDRESS_PART_NAMES.get(folded))
    return field if field in _ADDRESS_FIELDS else None


def _address_kind(column: str) -> int | None:
    """The rank (:data:`_ADDRESS_KIND_RANK`) of the kind of address ``column`` is a part of, or
    None for a column that is no part of one."""
    prefixed = _ENTITY_PREFIX.fullmatch(column)
    column = prefixed["field"] if prefixed else column
    if (part := _ADDRESS_PART.fullmatch(column)) is not None:
        return _ADDRESS_KIND_RANK[(part["kind"] or "").lower()]
    kind = _KIND_IN_HEADER.match(fold_header(column))
    return None if kind is None else _ADDRESS_KIND_RANK[kind[0]]


def auto_map(columns: Sequence[str]) -> dict[str, str]:
    """Canonical field → input column, for every column whose header is a known synonym, or one
    after the name of what it belongs to (``Organization - Name``).

    >>> auto_map(["Organization - ID", "Organization - Name", "Organization - Address"])["address"]
    'Organization - Address'
    """
    mapping: dict[str, str] = {}
    fields = {column: _field_of(column) for column in columns}
    # One kind of address is read whole: a postal code from the postal address and a street from
    # the visiting address would be no address at all.
    kinds = {c: _address_kind(c) for c, f in fields.items() if f in _ADDRESS_FIELDS}
    read_kind = min((k for k in kinds.values() if k is not None), default=None)
    for column, field in fields.items():
        if field is None or field in mapping:
            continue
        if kinds.get(column) not in (None, read_kind):
            continue
        mapping[field] = column
    # A file whose name column has no name of its own names it after what the rows are: "Site
    # name", "Store Name", "Practice name", "Leverandørnavn". Only when no column is the name, and
    # only the first such column ("Site name" before "Program Name").
    if "name" not in mapping:
        for column in columns:
            if fields[column] is None and _ENTITY_NAME.fullmatch(fold_header(column)):
                mapping["name"] = column
                break
    # Still none: a header naming the rows alone ("Customer,Address,Phone,Email", a Danish
    # "Kunde") holds their names; without it every row was MISSING_NAME. A column of customer
    # numbers under such a header holds names without letters, which the names stage reads as
    # no name: the rows are MISSING_NAME, as they were.
    # A contact export's first and last names are the person's name; its "Customer" is not.
    if not {"name", "first_name", "last_name"} & mapping.keys():
        for column in columns:
            if fields[column] is None and fold_header(column) in _ROWS_ALONE:
                mapping["name"] = column
                break
    # "Nr." beside a street is its house number; in a file without one (Business Central's
    # customer list: "Nr.", "Navn", "Adresse") it is the customer's number.
    number = mapping.get("house_number")
    if number is not None and "street" not in mapping and fold_header(number) in _NUMBER_ALONE:
        del mapping["house_number"]
        mapping.setdefault("record_id", number)
    # "Debitor" (C5's and Navision's debtor) beside a name column is the debtor's number; alone
    # it may be the name.
    if "record_id" not in mapping and "name" in mapping:
        for column in columns:
            if column != mapping["name"] and fold_header(column) in ("debitor", "debtor"):
                mapping["record_id"] = column
                break
    # A lone second phone column ("Telefon 2", Shopify's "Default Address Phone") is the mobile
    # number when nothing else is.
    if "phone" in mapping and "mobile" not in mapping:
        for column in columns:
            folded = fold_header(column)
            if column != mapping["phone"] and re.fullmatch(
                r"(telefon|phone|tlf)2|defaultaddressphone", folded
            ):
                mapping["mobile"] = column
                break
    return mapping


def load_mapping_file(path: Path) -> dict[str, str]:
    """Read a ``--mapping`` TOML file: ``[columns]`` with ``canonical_field = "Input column"``.

    A date written in three columns (``date_of_birth = ["by", "bm", "bd"]``) is checked here and
    left out of the result: :func:`load_date_parts` reads it.
    """
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"mapping file {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"mapping file {path} is a directory, not a TOML file") from None
    except OSError as exc:
        raise InputError(f"mapping file {path} cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8 by definition
        raise InputError(
            f"mapping file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"mapping file {path} is not valid TOML: {exc}") from None
    columns = doc.get("columns")
    if columns is None and _OTHER_TABLES & doc.keys():
        # Only extra evidence, a truth column or link sources: the columns are mapped
        # automatically, as without a mapping file (restating every one was busywork).
        columns = {}
    if not isinstance(columns, dict):
        raise InputError(
            f"mapping file {path} has no [columns] table (nor [compare], [evaluation] or [link])"
        )
    problems = [
        f"{field} (not a canonical field)" for field in columns if field not in CANONICAL_FIELDS
    ]
    for field, column in columns.items():
        if isinstance(column, str):
            continue
        if field in DATE_PART_FIELDS and isinstance(column, list):
            if problem := _date_part_problem(field, column):
                problems.append(problem)
        else:
            problems.append(f"{field} (value must be a column name)")
    if problems:
        raise InputError(
            f"mapping file {path}: {', '.join(problems)}; "
            f"canonical fields are {', '.join(CANONICAL_FIELDS)}"
        )
    if shared := _shared_columns(columns):
        raise InputError(f"mapping file {path}: {'; '.join(shared)}; map each to its own column")
    return {field: column for field, column in columns.items() if isinstance(column, str)}


# The tables a mapping file may hold beside [columns]; one of them alone is a mapping file too.
_OTHER_TABLES: Final = frozenset({"compare", "evaluation", "link"})
# Fields a mapping may give as three columns: year, month and day.
DATE_PART_FIELDS: Final = ("date_of_birth",)
# Two fields that may name one column: a "Telefon" column of phone and mobile numbers is both,
# its numbers cleaned alike and written back alike.
_MAY_SHARE: Final = frozenset({"phone", "mobile"})


def _shared_columns(columns: Mapping[str, str | list[str]]) -> list[str]:
    """``column 'Telefon' is named for name and phone``, one entry per column that two
    fields cannot share; [] when none.

    Two fields whose cleaned values go back into their column (``customers_update.csv``) cannot
    share one: ``name = "Telefon"`` beside ``phone = "Telefon"`` made every record MISSING_NAME
    and wrote the phone back, ``name`` and ``address`` both ``"Navn"`` read the company's name as
    its street, ``postal_code`` and ``city`` both ``"Postnr og by"`` wrote back ``8000 8000
    Aarhus C``. A date's three columns are no other field's. Fields datavask only reads
    (``person_id``, ``customer_type``, ``country``, the dates, ``record_id``) may share a column:
    an export keyed by the customer's own identifier reads it as both.
    """
    from datavask.cleansing.changes import SHAPED_FIELDS  # its import is slow: only when asked

    fields_of: dict[str, list[str]] = {}
    parts = set()
    for field, named in columns.items():
        for column in named if isinstance(named, list) else [named]:
            fields_of.setdefault(column, []).append(field)
            if isinstance(named, list):
                parts.add(column)
    shared = []
    for column, fields in fields_of.items():
        written = [f for f in fields if f in SHAPED_FIELDS]
        if column in parts and len(fields) > 1:
            clash = fields
        elif len(written) > 1 and not set(written) <= _MAY_SHARE:
            clash = written
        else:
            continue
        shared.append(f"column {column!r} is named for {', '.join(clash[:-1])} and {clash[-1]}")
    return shared


def _date_part_problem(field: str, parts: object) -> str | None:
    """Why ``parts`` is no ``[year, month, day]`` list of column names, or None."""
    if (
        isinstance(parts, list)
        and len(parts) == 3
        and all(isinstance(p, str) and p for p in parts)
        and len(set(parts)) == 3
    ):
        return None
    return (
        f"{field} (a list must name three different columns, year, month and day: {field} = "
        '["Year", "Month", "Day"])'
    )


def load_date_parts(path: Path) -> dict[str, list[str]]:
    """A ``--mapping`` file's dates written in three columns: ``date_of_birth = ["by", "bm",
    "bd"]`` under ``[columns]`` (year, month, day) gives ``{"date_of_birth": ["by", "bm", "bd"]}``;
    {} without one. The list's shape is checked by :func:`load_mapping_file`.
    """
    with path.open("rb") as fh:  # load_mapping_file has read it already: errors are reported there
        columns = tomllib.load(fh).get("columns", {})
    return {
        field: list(columns[field])
        for field in DATE_PART_FIELDS
        if isinstance(columns.get(field), list)
    }


def resolve_mapping(
    columns: Sequence[str],
    override: dict[str, str] | None = None,
    date_parts: dict[str, list[str]] | None = None,
    reserved: Collection[str] = (),
) -> dict[str, str]:
    """The mapping to use: automatic, with every ``override`` entry on top.

    ``date_parts`` (:func:`load_date_parts`) claims its fields and columns too: a field read from
    three columns is not guessed from a fourth, and its columns (``by``, Danish for town) are no
    other field's. ``reserved`` columns (the mapping file's ``[compare]``, truth and ``[link]``
    columns) are never guessed as a field either: ``by`` named under ``[compare]`` is no city.

    Raises InputError naming the columns seen when nothing maps, and naming every override or
    date-part column the file does not have.
    """
    mapping = auto_map([c for c in columns if c not in reserved])
    parts = date_parts or {}
    if override or parts:
        named = [*(override or {}).values(), *(c for three in parts.values() for c in three)]
        missing = [column for column in named if column not in columns]
        if missing:
            raise InputError(
                "--mapping names columns the input does not have: "
                f"{listed(missing)}; columns seen: {listed(columns)}"
            )
        # A column claimed by the override is no longer available to the automatic guess.
        claimed = set(named)
        mapping = {f: c for f, c in mapping.items() if c not in claimed and f not in parts}
        mapping.update(override or {})
    if not _SUBSTANTIVE & (mapping.keys() | parts.keys()):
        raise InputError(
            "could not map any customer column (name, address, phone, e-mail, CVR …); "
            f"columns seen: {listed(columns)}. Use --mapping to name them."
        )
    return mapping


_EVIDENCE_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def load_compare_fields(path: Path) -> dict[str, str]:
    """A ``--mapping`` file's ``[compare]`` table: extra matching evidence, ``field = "Input
    column"`` (``birth_place = "Birth place"``), {} without one.

    Each named column is compared as text between records (exact, alike, different; a common
    value counts less) and blocked on with the names and the birth date; it stays in the outputs
    as it was read. A field is a lower-case name that is not a canonical field.
    """
    with path.open("rb") as fh:  # load_mapping_file has read it already: errors are reported there
        table = tomllib.load(fh).get("compare", {})
    if not isinstance(table, dict):
        raise InputError(f'mapping file {path}: [compare] must be a table of field = "column"')
    problems = [
        f"{field} (a canonical field: map it under [columns])"
        for field in table
        if field in CANONICAL_FIELDS
    ]
    problems += [
        f"{field} (reserved: name the source column under [link])"
        for field in table
        if field == "source"
    ]
    problems += [
        f"{field} (use lower-case letters, digits and _)"
        for field in table
        if field not in CANONICAL_FIELDS and field != "source" and not _EVIDENCE_NAME.match(field)
    ]
    problems += [
        f"{field} (value must be a column name)"
        for field, column in table.items()
        if not isinstance(column, str)
    ]
    if problems:
        raise InputError(f"mapping file {path}, [compare]: {', '.join(problems)}")
    return dict(table)


def missing_compare_columns(fields: dict[str, str], columns: Sequence[str]) -> list[str]:
    """The ``[compare]`` columns the input does not have."""
    return [column for column in fields.values() if column not in columns]


def load_truth_column(path: Path) -> str | None:
    """A ``--mapping`` file's ``[evaluation]`` table: ``truth = "Input column"`` names the column
    that holds each record's true customer in a labelled sample (None without one).

    The run then reports its blocking recall and the clusters' pairwise precision, recall and F1
    against it (run.json ``steps.match.evaluation``). The column is never matching evidence.
    """
    return _column_of(path, "evaluation", "truth")


def _column_of(path: Path, name: str, key: str) -> str | None:
    """The column a mapping's one-key table ``[name]`` gives as ``key = "Input column"``, or None
    without the table; anything else in it stops the run."""
    with path.open("rb") as fh:  # load_mapping_file has read it already: errors are reported there
        table = tomllib.load(fh).get(name, {})
    if not isinstance(table, dict):
        raise InputError(f'mapping file {path}: [{name}] must be a table: {key} = "column"')
    unknown = sorted(set(table) - {key})
    if unknown:
        raise InputError(f"mapping file {path}, [{name}]: unknown keys {unknown}; use {key}")
    column = table.get(key)
    if column is not None and not (isinstance(column, str) and column):
        raise InputError(f"mapping file {path}, [{name}]: {key} must be a column name")
    return column


def truth_column_problem(
    truth: str, columns: Sequence[str], mapping: dict[str, str], evidence: dict[str, str]
) -> str | None:
    """Why ``truth`` cannot be the truth column: missing from the input, or read as evidence."""
    if truth not in columns:
        return f"the mapping's [evaluation] truth column {truth!r} is not in the input"
    used = [f for f, c in mapping.items() if c == truth]
    used += [f"[compare] {f}" for f, c in evidence.items() if c == truth]
    if used:
        return (
            f"the truth column {truth!r} is also mapped as {', '.join(used)}: the truth is "
            "never evidence; map that field to another column"
        )
    return None


def load_link_column(path: Path) -> str | None:
    """A ``--mapping`` file's ``[link]`` table: ``source = "Input column"`` names the column that
    says which system (file, source) each record of a stacked file comes from (None without one).

    With two or more sources the run links them: only records of different sources are paired,
    and an evaluation counts true pairs across sources only. The column stays in the outputs as
    it was read; it is never compared as evidence.
    """
    return _column_of(path, "link", "source")


def link_column_problem(
    source: str,
    columns: Sequence[str],
    mapping: dict[str, str],
    evidence: dict[str, str],
    truth: str | None,
) -> str | None:
    """Why ``source`` cannot be the ``[link]`` source column: missing from the input, or read as
    a field, as evidence or as the truth."""
    if source not in columns:
        return f"the mapping's [link] source column {source!r} is not in the input"
    used = [f for f, c in mapping.items() if c == source]
    used += [f"[compare] {f}" for f, c in evidence.items() if c == source]
    used += ["[evaluation] truth"] if truth == source else []
    if used:
        return (
            f"the [link] source column {source!r} is also mapped as {', '.join(used)}: "
            "the source only says which records to link; map that field to another column"
        )
    return None


def blank_source_problem(source: str, blank: int, first_row: int | None) -> str | None:
    """Why a file cannot be linked on ``source``: ``blank`` rows say no source."""
    if blank == 0:
        return None
    return (
        f"the [link] source column {source!r} is blank on {blank:,} rows (first at source_row "
        f"{first_row}): every record must say which source it comes from"
    )
