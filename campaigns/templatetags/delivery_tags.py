from django import template

from campaigns.delivery import services as delivery

register = template.Library()


@register.inclusion_tag("campaigns/includes/send_panel.html", takes_context=True)
def send_panel(context, asset, membership):
    """The send panel of an email asset: `{% send_panel asset membership %}`."""
    return {
        "asset": asset,
        "project": asset.project,
        "membership": membership,
        "csrf_token": context.get("csrf_token"),
        "user": context.get("user"),
        **delivery.send_panel(asset=asset),
    }
