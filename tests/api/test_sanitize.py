"""Only the safe inline subset of HTML survives input; no stored event ever holds script."""

from __future__ import annotations

from .helpers import create_blog, create_post

EVIL = ('<script>alert(1)</script><img src=x onerror="alert(2)"><b onclick="x()">bold</b>'
        '<a href="javascript:alert(3)">js</a><a href="https://ok.example/">ok</a>'
        '<iframe src="https://evil.example"></iframe><em>em</em><br>')


def test_text_fields_keep_only_the_inline_subset(app, client, editor):
    blog = create_blog(client, editor, title="<b>Title</b><script>x</script>")
    post = create_post(client, editor, blog["id"], headline="Head<script>x</script>line",
                       byline={"contributors": ["<i>Jane</i>"], "location": "<u>Kyiv</u>"},
                       body=[{"type": "paragraph", "text": EVIL},
                             {"type": "quote", "text": EVIL, "attribution": EVIL},
                             {"type": "image", "url": "https://img.example/a.jpg",
                              "caption": EVIL, "credit": EVIL, "alt": EVIL}])
    text = post["body"][0]["text"]
    assert "<b>bold</b>" in text and "<em>em</em>" in text and "<br>" in text
    assert 'href="https://ok.example/"' in text
    assert post["headline"] == "Headline"
    assert post["byline"]["contributors"] == ["Jane"]
    assert blog["title"] == "Title"
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        raw = get_liveblog().store().conn.execute("SELECT data FROM events").fetchall()
        raw = " ".join(row[0] for row in raw)
    for needle in ("<script", "onerror", "onclick", "javascript:", "<iframe"):
        assert needle not in raw.lower()
