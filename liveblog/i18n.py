"""The reader's side in the blog's language: gettext catalogs for the interface's words, Babel's
CLDR data for dates, times, lists and plurals, and the writing direction.

A page's language is its blog's (``language``, BCP 47), never the reader's Accept-Language, so
one cached copy serves every reader. ``en-US`` keeps v1's house style word for word ("9:06
p.m. ET, January 21, 2022", "From Jane Roe and John Doe in Kyiv"); the others take their
words from ``translations/<locale>/LC_MESSAGES/messages.po`` (read and compiled in memory at
start) and their forms from CLDR. The console stays in English.
"""

from __future__ import annotations

import functools
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, get_timezone_gmt, get_timezone_name
from babel.dates import format_time as cldr_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup

#: the languages a blog may be written in (BCP 47) -> the catalog's locale
LANGUAGES = {"en-US": "en_US", "en-GB": "en_GB", "fr-FR": "fr_FR", "de-DE": "de_DE",
             "es-ES": "es_ES", "pt-BR": "pt_BR", "uk-UA": "uk_UA", "ar": "ar"}
#: where each language's catalog lives
CATALOGS = Path(__file__).parent / "translations"
#: the house style's language: its words are the msgids themselves
HOUSE = "en-US"


# -- the house style (en-US): v1's words, kept as they were --------------------------------

_ZONES = {"EST": "ET", "EDT": "ET", "CST": "CT", "CDT": "CT", "MST": "MT", "MDT": "MT",
          "PST": "PT", "PDT": "PT"}


def zone_label(moment: datetime) -> str:
    """The zone's name at an aware ``moment`` as every view of a blog shows it: ``ET`` for US
    zones, the tz database's abbreviation (``CET``) elsewhere, ``EDT``/``EST`` in the hour a
    clock goes back (when ``1:30 a.m. ET`` could be either)."""
    zone = moment.strftime("%Z")
    wall = moment.replace(tzinfo=None)
    ambiguous = (wall.replace(fold=0, tzinfo=moment.tzinfo).utcoffset()
                 != wall.replace(fold=1, tzinfo=moment.tzinfo).utcoffset())
    return zone if ambiguous else _ZONES.get(zone, zone)


_OFFSET = re.compile(r"^[+-]\d")


def local_zone_label(moment: datetime, locale: Locale) -> str:
    """The zone's name at ``moment`` in a language's own words: CLDR's short name where the
    language has one (``MEZ`` in German, ``BRT`` in Brazilian Portuguese), else the name the
    house style uses (``CET``, ``ET``), and where the zone has no name at all, only an
    offset (Riyadh's ``+03``), the language's GMT format (``غرينتش+03:00``)."""
    try:
        name = get_timezone_name(moment, "short", locale=locale, return_zone=False)
    except (LookupError, ValueError):
        name = ""
    if name and not _OFFSET.match(name):
        return str(name)
    label = zone_label(moment)
    return str(get_timezone_gmt(moment, "long", locale=locale)) if _OFFSET.match(label) else label


def display_time(value: str | None, timezone: str) -> str:
    """``9:06 p.m. ET, January 21, 2022``, in the blog's time zone."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
    hour = moment.hour % 12 or 12
    meridiem = "a.m." if moment.hour < 12 else "p.m."
    return (f"{hour}:{moment.minute:02d} {meridiem} {zone_label(moment)}, {moment:%B} "
            f"{moment.day}, {moment.year}")


def short_time(value: str | None, timezone: str) -> str:
    """``9:06 p.m. ET``: a post's shown time."""
    full = display_time(value, timezone)
    return full.split(",")[0] if full else ""


@functools.cache
def translations(language: str) -> NullTranslations:
    """The catalog of ``language`` (en-US and an unknown one: the msgids as they are)."""
    if language == HOUSE or language not in LANGUAGES:
        return NullTranslations()
    path = CATALOGS / LANGUAGES[language] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=LANGUAGES[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def direction(language: str) -> str:
    """``rtl`` for a language written right to left, else ``ltr``."""
    return Locale.parse(LANGUAGES.get(language, "en_US")).character_order == "right-to-left" \
        and "rtl" or "ltr"


@functools.cache
def _locale(language: str) -> Locale:
    return Locale.parse(LANGUAGES.get(language, "en_US"))


class Words:
    """One language's words and forms, as templates and pages use them."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else HOUSE
        self.catalog = translations(self.language)
        self.locale = _locale(self.language)
        self.dir = direction(self.language)

    def gettext(self, message: str, **values: Any) -> str:
        text = self.catalog.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return self.catalog.ngettext(singular, plural, n).format(n=n, **values)

    def markup(self, message: str, **parts: Any) -> Markup:
        """The message in this language as HTML, with ``parts`` (Markup: put in as they are;
        text: escaped) in its places."""
        return Markup.escape(self.catalog.gettext(message)).format(**parts)

    def nmarkup(self, singular: str, plural: str, number: int, **parts: Any) -> Markup:
        """As :meth:`markup`, in the plural form for ``number`` (``{n}``, unless a part)."""
        parts.setdefault("n", number)
        return Markup.escape(self.catalog.ngettext(singular, plural, number)).format(**parts)

    def plural_forms(self, singular: str, plural: str) -> str:
        """Every CLDR plural category's text (``{n}`` in place of the number), as JSON: the
        page's script picks one with ``Intl.PluralRules``."""
        forms: dict[str, str] = {}
        for n in range(0, 200):
            category = self.locale.plural_form(n)
            if category not in forms:
                forms[category] = self.catalog.ngettext(singular, plural, n)
        return json.dumps(forms, ensure_ascii=False)

    # -- dates and times, in the blog's zone ------------------------------------------------

    def display_time(self, value: str | None, timezone: str) -> str:
        """``9:06 p.m. ET, January 21, 2022`` (en-US), the CLDR forms elsewhere."""
        if not value:
            return ""
        if self.language == HOUSE:
            return display_time(value, timezone)
        moment = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
        return self.gettext("{time} {zone}, {date}", time=self._time(moment),
                            zone=local_zone_label(moment, self.locale),
                            date=format_date(moment, "long", locale=self.locale))

    def short_time(self, value: str | None, timezone: str) -> str:
        """``9:06 p.m. ET``: a post's shown time."""
        if not value:
            return ""
        if self.language == HOUSE:
            return short_time(value, timezone)
        moment = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
        return self.gettext("{time} {zone}", time=self._time(moment),
                            zone=local_zone_label(moment, self.locale))

    def _time(self, moment: datetime) -> str:
        return cldr_time(moment, "short", tzinfo=moment.tzinfo, locale=self.locale)

    # -- lists of names ----------------------------------------------------------------------

    def names(self, names: list[Markup]) -> Markup:
        """``Jane Roe, John Doe and Ann Lee`` (sanitised fragments, joined in the language)."""
        if len(names) < 2:
            return names[0] if names else Markup("")
        if self.language == HOUSE:
            return Markup(", ").join(names[:-1]) + Markup(" and ") + names[-1]
        return Markup(format_list([str(n) for n in names], locale=self.locale))

    def byline(self, byline: dict[str, Any]) -> Markup:
        """``From Jane Roe and John Doe in Kyiv``."""
        names = [Markup(n) for n in byline.get("contributors") or []]
        if not names:
            return Markup("")
        joined = self.names(names)
        if byline.get("location"):
            return Markup(self.catalog.gettext("From {names} in {location}")).format(
                names=joined, location=Markup(byline["location"]))
        return Markup(self.catalog.gettext("From {names}")).format(names=joined)

    def authors(self, authors: list[str], organization: str | None) -> Markup:
        """``By Jane Roe and John Doe, Harbour Gazette``."""
        joined = self.names([Markup(a) for a in authors])
        if organization:
            joined = joined + Markup(self.gettext(", ")) + Markup(organization)
        return Markup(self.catalog.gettext("By {authors}")).format(authors=joined)


@functools.lru_cache(maxsize=16)
def words(language: str) -> Words:
    """The words of ``language`` (kept: catalogs are read once)."""
    return Words(language)
