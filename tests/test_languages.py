"""Pages in the blog's language: every catalog has every string of the reader page and Atom,
dates and plurals in CLDR's forms, right to left where the language needs it, en-US unchanged,
and the page the same whatever the reader's Accept-Language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from liveblog import i18n

from .api.helpers import assert_problem, create_blog, create_post

ROOT = Path(i18n.__file__).parent
#: how the interface's words are marked in templates and in i18n.py
_SINGULAR = re.compile(r"""(?:\b_|\bmarkup|\bgettext)\(\s*(["'])(.+?)\1""")
_PLURAL = re.compile(r"""\b(?:nmarkup|ngettext|plural_forms)\(\s*(["'])(.+?)\1,\s*(["'])(.+?)\3""")


def marked_messages() -> tuple[set[str], set[tuple[str, str]]]:
    """Every string the reader page, Atom and the words module mark for translation."""
    singular: set[str] = set()
    plural: set[tuple[str, str]] = set()
    sources = [*(ROOT / "templates").glob("*"), ROOT / "i18n.py"]
    for path in sources:
        text = path.read_text()
        plural |= {(m.group(2), m.group(4)) for m in _PLURAL.finditer(text)}
        singular |= {m.group(2) for m in _SINGULAR.finditer(text)}
    return singular - {p for pair in plural for p in pair}, plural


def _single_number(catalog, index: int) -> bool:
    """Whether the catalog's plural form ``index`` is used for exactly one number."""
    import gettext

    which = gettext.c2py(catalog.plural_expr)
    return sum(which(n) == index for n in range(1000)) == 1


def catalog_problems(path: Path) -> list[str]:
    """What a catalog lacks: marked strings with no translation (every plural form filled),
    or translations that lose a placeholder."""
    singular, plural = marked_messages()
    with path.open("rb") as f:
        catalog = read_po(f)
    problems = []
    for msgid in sorted(singular):
        message = catalog.get(msgid)
        if message is None or not message.string:
            problems.append(f"missing: {msgid!r}")
        elif set(re.findall(r"{\w+}", msgid)) != set(re.findall(r"{\w+}", message.string)):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    for pair in sorted(plural):
        message = catalog.get(pair[0])
        forms = message.string if message is not None else ()
        if not isinstance(forms, tuple) or len(forms) != catalog.num_plurals or not all(forms):
            problems.append(f"missing plural forms: {pair!r}")
        elif any("{n}" not in form and not _single_number(catalog, i)
                 for i, form in enumerate(forms)):
            # a form may leave the number out only where it stands for one number, as the
            # Arabic dual says "two posts" in one word (منشوران); else "{n}" is needed
            problems.append(f"a plural form without {{n}}: {pair!r}")
    return problems


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != i18n.HOUSE])
def test_every_catalog_has_every_string(language):
    path = i18n.CATALOGS / i18n.LANGUAGES[language] / "LC_MESSAGES" / "messages.po"
    assert catalog_problems(path) == []


def test_a_catalog_that_misses_a_string_fails(tmp_path):
    source = i18n.CATALOGS / "fr_FR" / "LC_MESSAGES" / "messages.po"
    text = source.read_text()
    broken = tmp_path / "messages.po"
    broken.write_text(text.replace('msgid "Load more"\nmsgstr "Afficher plus"\n', ""))
    assert catalog_problems(broken) == ["missing: 'Load more'"]
    lossy = tmp_path / "lossy.po"
    lossy.write_text(text.replace('msgstr "Voir sur {provider}"', 'msgstr "Voir"'))
    assert catalog_problems(lossy) == [
        "placeholders differ: 'View on {provider}' -> 'Voir'"]
    singular, plural = marked_messages()
    assert len(singular) >= 25 and ("{n} Post", "{n} Posts") in plural


def _blog_with_posts(client, editor, language, count=3, **fields):
    blog = create_blog(client, editor, title="Wahlabend", language=language,
                       timezone="Europe/Berlin", authors=["Jana Roth", "Jon Dorn", "Ana Lee"],
                       **fields)
    for i in range(count):
        create_post(client, editor, blog["id"], headline=f"Meldung {i}",
                    byline={"contributors": ["Jana Roth", "Jon Dorn"], "location": "Kyjiw"},
                    key_event=i == 0)
    return blog


def test_a_french_blog_speaks_french_with_french_dates_and_plurals(client, editor, clock):
    blog = _blog_with_posts(client, editor, "fr-FR")
    assert blog["language"] == "fr-FR"
    page = client.get(f"/blogs/{blog['slug']}").get_data(as_text=True)
    assert '<html lang="fr-FR">' in page
    assert "En direct" in page and ">3</span> publications" in page
    assert "Par Jana Roth, Jon Dorn et Ana Lee" in page
    assert "Par Jana Roth et Jon Dorn, à Kyjiw" in page  # as French papers write it
    assert "21 janvier 2022 à 14:31 CET" in page  # 13:31 UTC, in Berlin, as CLDR writes it
    assert "Moments clés" in page and "Trier par" in page
    assert " Posts" not in page and "a.m." not in page and "p.m." not in page
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.+?)</script>', page,
                              re.S).group(1))
    assert ld["inLanguage"] == "fr-FR"
    atom = client.get(f"/blogs/{blog['slug']}/feed.atom").get_data(as_text=True)
    assert 'xml:lang="fr-FR"' in atom and "Par Jana Roth et Jon Dorn" in atom


def test_ukrainian_and_arabic_plurals_and_right_to_left(client, editor):
    for count, words in ((1, "допис"), (2, "дописи"), (5, "дописів")):
        blog = _blog_with_posts(client, editor, "uk-UA", count=count)
        page = client.get(f"/blogs/{blog['slug']}").get_data(as_text=True)
        assert f'>{count}</span> {words}</p>' in page, count
    blog = _blog_with_posts(client, editor, "ar", count=2)
    page = client.get(f"/blogs/{blog['slug']}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    # the dual names its number in one word: "منشوران", not "2 منشوران"
    assert "منشوران" in page and ">2</span> منشوران" not in page and "مباشر" in page
    forms = json.loads(re.search(r'data-count-forms="([^"]+)"', page).group(1)
                       .replace("&#34;", '"'))
    assert set(forms) == {"zero", "one", "two", "few", "many", "other"}


def test_en_us_keeps_the_house_style(client, editor):
    blog = create_blog(client, editor, title="Election", timezone="America/New_York")
    create_post(client, editor, blog["id"], headline="Polls close",
                byline={"contributors": ["Jane Roe", "John Doe"], "location": "Kyiv"})
    page = client.get(f"/blogs/{blog['slug']}").get_data(as_text=True)
    assert blog["language"] == "en-US"
    assert '<html lang="en-US">' in page
    assert "8:31 a.m. ET, January 21, 2022" in page
    assert "From Jane Roe and John Doe in Kyiv" in page
    assert '<span id="count">1</span> Post</p>' in page


def test_the_page_is_the_blogs_language_whatever_the_reader_asks(client, editor):
    blog = _blog_with_posts(client, editor, "de-DE")
    pages = {client.get(f"/blogs/{blog['slug']}", headers={"Accept-Language": accept}
                        ).get_data() for accept in ("en-US,en;q=0.9", "ar", "fr-FR")}
    assert len(pages) == 1 and "Beiträge".encode() in pages.pop()


def test_a_blogs_language_is_checked_and_may_change(client, editor):
    assert_problem(client.post("/api/blogs", json={"title": "x", "language": "klingon"},
                               headers=editor), 422, fields=["language"])
    blog = _blog_with_posts(client, editor, "es-ES", count=1)
    etag = client.get(f"/api/blogs/{blog['id']}").headers["ETag"]
    changed = client.patch(f"/api/blogs/{blog['id']}", json={"language": "pt-BR"},
                           headers={**editor, "If-Match": etag})
    assert changed.get_json()["language"] == "pt-BR"
    page = client.get(f"/blogs/{blog['slug']}").get_data(as_text=True)
    assert "Ao vivo" in page and '<html lang="pt-BR">' in page


def test_zone_names_are_the_languages_own_and_never_a_bare_offset(client, editor):
    """German readers see MEZ, as German papers print it (CLDR), not CET; a zone with no name
    (Riyadh) is the language's GMT form, not the tz database's "+03"; Arabic separates the
    authors from their organization with its own comma."""
    german = _blog_with_posts(client, editor, "de-DE", count=1)
    page = client.get(f"/blogs/{german['slug']}").get_data(as_text=True)
    assert "MEZ" in page and " CET" not in page
    arabic = create_blog(client, editor, title="الانتخابات", language="ar",
                         timezone="Asia/Riyadh", authors=["سارة"], organization="الجريدة")
    create_post(client, editor, arabic["id"], headline="بدأ الفرز")
    page = client.get(f"/blogs/{arabic['slug']}").get_data(as_text=True)
    assert "غرينتش+03:00" in page and "+03 " not in page and "+03<" not in page
    assert "سارة، الجريدة" in page and "سارة, الجريدة" not in page
