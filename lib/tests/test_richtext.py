import pytest
from django.template import Context, Template

from lib.richtext import render_html, sanitize_html


@pytest.mark.parametrize(
    "hostile,gone",
    [
        ("<script>alert(1)</script>", "alert"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
        ('<iframe src="https://evil.example"></iframe>', "iframe"),
        ("<style>body{display:none}</style>", "display"),
        ('<p style="position:fixed">x</p>', "style"),
        ('<svg onload="alert(1)"></svg>', "onload"),
        ('<form action="https://evil.example"><input name="p"></form>', "form"),
        ("<!-- <script>alert(1)</script> -->", "alert"),
        ('<object data="x.swf"></object>', "object"),
    ],
)
def test_it_removes_dangerous_markup(hostile, gone):
    assert gone not in sanitize_html(f"<p>ok</p>{hostile}").lower()


def test_it_keeps_the_formatting_vocabulary():
    html = '<h2>Rubrik</h2><p><strong>fet</strong> <em>kursiv</em></p><ul><li>ett</li></ul><a href="https://example.se">länk</a>'
    cleaned = sanitize_html(html)
    for kept in (
        "<h2>Rubrik</h2>",
        "<strong>fet</strong>",
        "<em>kursiv</em>",
        "<ul><li>ett</li></ul>",
        'href="https://example.se"',
    ):
        assert kept in cleaned
    assert 'rel="noopener noreferrer"' in cleaned


def test_it_turns_nothing_into_an_empty_string():
    assert sanitize_html(None) == "" and sanitize_html("") == ""


def test_the_template_filter_sanitises_on_render():
    rendered = Template("{% load richtext %}{{ html|richtext }}").render(
        Context({"html": "<p>a</p><script>x()</script>"})
    )
    assert rendered == "<p>a</p>"
    assert render_html("<b onclick=x>b</b>") == "<b>b</b>"
