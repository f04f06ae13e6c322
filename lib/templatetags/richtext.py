from django import template

from lib.richtext import render_html

register = template.Library()


@register.filter
def richtext(value: str | None):
    """Render stored rich text, sanitised once more on the way out."""
    return render_html(value) or ""


@register.filter
def absolute(value: int) -> int:
    return abs(value)
