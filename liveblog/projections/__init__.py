"""Read models folded from the log, applied inline with every append."""

from __future__ import annotations

from events import Projection

from .blogs import BlogsProjection
from .feed import FeedProjection
from .history import FeedHistoryProjection
from .people import PeopleProjection, WorkflowProjection
from .schedules import PollClosingsProjection, SchedulesProjection
from .tokens import TokensProjection

__all__ = ["BlogsProjection", "FeedHistoryProjection", "FeedProjection", "PeopleProjection",
           "PollClosingsProjection", "SchedulesProjection", "TokensProjection",
           "WorkflowProjection", "all_projections"]


def all_projections() -> list[Projection]:
    """Every projection the application keeps current, in the order they are applied."""
    return [BlogsProjection(), FeedProjection(), SchedulesProjection(), TokensProjection(),
            FeedHistoryProjection(), PeopleProjection(), WorkflowProjection(),
            PollClosingsProjection()]
