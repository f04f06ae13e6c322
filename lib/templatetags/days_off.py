from django import template
from django.utils import timezone

from lib.days_off import day_off_note

register = template.Library()


@register.filter
def session_day_off(session) -> str:
    """ "25 December 2030 is a day off: Christmas Day." for a meeting session on a holiday or weekend."""
    if session is None or not getattr(session, "starts_at", None):
        return ""
    return day_off_note(timezone.localdate(session.starts_at), site=session.site or "")
