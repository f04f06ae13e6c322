"""Every table of the campaigns app, gathered from the capability that owns it.

Each capability keeps its tables in its own `models.py`; this module is the app's models
module for Django and the one import path for everyone else (`from campaigns.models import Asset`).
The private callables at the end are here because the migrations refer to them by this path.
"""

from campaigns.analytics.models import DashboardDay, DashboardFigure, DashboardRefresh
from campaigns.cascade.models import TeamTalk, _talk_token
from campaigns.delivery.models import Delivery, EmailSend, EngagementCounter, TrackedLink, _tracking_token
from campaigns.landing.models import (
    Booking,
    Comprehension,
    ComprehensionResponse,
    ErasureRequest,
    LandingCounter,
    LandingToken,
    PulseResponse,
    Question,
    ReadDepth,
    ReadDepthCounter,
)
from campaigns.plan.models import (
    EMAIL_CHANNELS,
    PRINT_CHANNELS,
    Asset,
    AssetEvent,
    Channel,
    MeetingSession,
    PlanTemplate,
    PlanTemplateItem,
    ReplyTo,
    SenderKind,
    Stage,
    _film_path,
)
from campaigns.printing.models import PrintRender, _print_path, _print_token
from campaigns.projects.models import ChangeProject, Membership, ProjectImage, _image_path, hex_color_validator

__all__ = [
    "EMAIL_CHANNELS",
    "PRINT_CHANNELS",
    "Asset",
    "AssetEvent",
    "Booking",
    "ChangeProject",
    "Comprehension",
    "ComprehensionResponse",
    "Channel",
    "DashboardDay",
    "DashboardFigure",
    "DashboardRefresh",
    "Delivery",
    "EmailSend",
    "EngagementCounter",
    "ErasureRequest",
    "LandingCounter",
    "LandingToken",
    "Membership",
    "MeetingSession",
    "PlanTemplate",
    "PlanTemplateItem",
    "PrintRender",
    "ProjectImage",
    "PulseResponse",
    "Question",
    "ReadDepth",
    "ReadDepthCounter",
    "ReplyTo",
    "SenderKind",
    "Stage",
    "TeamTalk",
    "TrackedLink",
    "hex_color_validator",
    # Referred to by the migrations.
    "_film_path",
    "_image_path",
    "_print_path",
    "_print_token",
    "_talk_token",
    "_tracking_token",
]
