"""The vocabulary of the dashboard's figures: which metrics are counted, their labels, the barrier."""

from django.utils.translation import gettext_lazy

from campaigns.models import ChangeProject, DashboardFigure, Stage

STAGES = tuple(Stage.values)
Mode = ChangeProject.TrackingMode
Scope = DashboardFigure.Scope

# Per-person facts counted for every audience, every site and the project as a whole.
PEOPLE_METRICS = (
    "targeted",
    "reached_1",
    "reached_2",
    "delivered",
    "opened",
    "clicked",
    "visited",
    "answered",
    "booked",
    "talked",
)
# The manager cascade, per department and site of the briefed managers: briefed, talk held, late.
CASCADE_METRICS = ("talks_briefed", "talks_held", "talks_late")
# Engagement counted as events (per audience through which people were reached): not people.
EVENT_METRICS = ("open_events", "click_events", "visit_events")
# Visits by how far they read (campaigns.landing.models.ReadDepth), from the page's beacon.
READ_METRICS = {1: "read_lede", 2: "read_story", 3: "read_all"}
READ_LABELS = {
    "read_lede": gettext_lazy("Lede only"),
    "read_story": gettext_lazy("Into the story"),
    "read_all": gettext_lazy("Everything"),
}
# The chart's lines: running totals per day.
SERIES_METRICS = ("sent", "opens", "visits", "answers", "bookings", "questions")
SERIES_LABELS = {
    "sent": gettext_lazy("Emails delivered"),
    "opens": gettext_lazy("Email opens"),
    "visits": gettext_lazy("Page visits"),
    "answers": gettext_lazy("Pulse answers"),
    "bookings": gettext_lazy("Meeting bookings"),
    "questions": gettext_lazy("Questions"),
}
# An average at or below this is a stage people are stuck at.
BARRIER_AT = 3.0
