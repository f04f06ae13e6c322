from django import template

from campaigns.delivery.outbox import outbox_enabled

register = template.Library()


@register.filter
def can_open_outbox(user) -> bool:
    """{% if user|can_open_outbox %}: staff, while emails go to the local outbox."""
    return bool(user.is_authenticated and user.is_active and user.is_staff and outbox_enabled())
