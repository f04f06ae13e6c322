"""The print worker: a thin adapter from a queued asset id to `printing.services.print_render_asset`."""

from celery import shared_task

from campaigns.printing import services as printing

# Each render stops itself after printing.RENDER_TIMEOUT seconds (SIGALRM); the soft limit catches a
# slow batch of variants, and the hard limit kills a render stuck inside native code.
SOFT_TIME_LIMIT = 240
HARD_TIME_LIMIT = 300


@shared_task(
    name="campaigns.print_tasks.render_print",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
    ignore_result=True,
)
def render_print(asset_id: int) -> None:
    """Render the out-of-date variants of one print asset. Safe to run twice."""
    printing.print_render_asset(asset_id=asset_id)
