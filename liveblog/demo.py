"""The demo blog: original sample content about a fictional storm, created once per database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from events import format_time

from . import queries
from .domain import commands as cmd
from .service import Actor, Service, new_id

SLUG = "storm-halvard-live"
DEMO = Actor("cli", "demo")


def _p(text: str) -> dict[str, str]:
    return {"type": "paragraph", "text": text}


def _posts(base: str) -> list[dict[str, Any]]:
    img = f"{base}/static/demo"
    newsroom = {"organization": "The Ellery Gazette"}
    return [
        {"headline": "Storm Halvard is expected to reach the coast tonight",
         "byline": {"contributors": ["Mara Lindqvist"], "location": "Port Ellery", **newsroom},
         "body": [_p("The regional weather office says the storm will come ashore near Port "
                     "Ellery between 10 p.m. and midnight, with gusts of up to 130 km/h."),
                  {"type": "image", "url": f"{img}/map.svg", "width": 800, "height": 450,
                   "alt": "The forecast storm track",
                   "caption": "The forecast track crosses the coast just south of the town.",
                   "credit": "Illustration: Gazette graphics desk"}]},
        {"headline": "Some background: why Halvard is unusual",
         "byline": {"contributors": ["Tomas Brekke"], **newsroom},
         "body": [{"type": "heading", "text": "Some background"},
                  _p("Storms this strong usually arrive later in the season. Forecasters say "
                     "warm water offshore gave Halvard more energy than is typical for the "
                     "time of year."),
                  _p("The last storm of comparable strength, in the winter of 1998, flooded "
                     "the lower harbour for two days.")]},
        {"headline": "Ferries to the islands are cancelled",
         "byline": {"contributors": ["Mara Lindqvist"], "location": "Port Ellery"},
         "body": [_p("All sailings after 4 p.m. are cancelled. The operator says it will post "
                     "an update on morning services at 6 a.m.")]},
        {"headline": "Mayor: 'Stay off the harbour wall'",
         "byline": {"contributors": ["Tomas Brekke", "Ines Okafor"], "location": "Port Ellery"},
         "body": [{"type": "quote", "text": "The waves look spectacular. Please admire them "
                   "from home. The wall is <strong>not</strong> a viewing platform tonight.",
                   "attribution": "Mayor Hanne Solberg"}]},
        {"headline": "Waves are already topping the harbour wall",
         "byline": {"contributors": ["Ines Okafor"], "location": "Port Ellery"},
         "body": [{"type": "image", "url": f"{img}/harbour.svg", "width": 800, "height": 450,
                   "alt": "Waves breaking over the harbour wall at dusk",
                   "caption": "Spray over the old harbour wall shortly before 7 p.m.",
                   "credit": "Illustration: Gazette graphics desk"},
                  _p("Police have closed the promenade between the lighthouse and the fish "
                     "market.")]},
        {"headline": "Emergency shelter opens at Northside School",
         "byline": {"contributors": ["Ines Okafor"], "location": "Port Ellery"},
         "body": [{"type": "image", "url": f"{img}/shelter.svg", "width": 800, "height": 450,
                   "alt": "Camp beds laid out in a school gym",
                   "caption": "Volunteers set out 120 beds in the gym.",
                   "credit": "Illustration: Gazette graphics desk"},
                  _p("Residents of the lower harbour streets are asked to go there or to "
                     "relatives on higher ground.")]},
        {"headline": "Power cut to about 3,000 homes",
         "byline": {"contributors": ["Tomas Brekke"]},
         "body": [_p("The grid operator says crews will not go out until gusts drop below "
                     "90 km/h.")]},
        {"headline": "A reader's view from the hill",
         "byline": {"contributors": ["Mara Lindqvist"]},
         "body": [{"type": "quote", "text": "We can hear the sea from two streets up. I've "
                   "lived here forty years and never heard it like this.",
                   "attribution": "Aud Nilsen, Kirkebakken"}]},
        {"headline": "Trains between Port Ellery and the city suspended",
         "byline": {"contributors": ["Tomas Brekke"]},
         "body": [_p("A fallen tree blocks the line north of Stavnes. Replacement buses are "
                     "not running tonight.")]},
        {"headline": "How to report damage",
         "byline": {"contributors": ["Ines Okafor"]},
         "body": [_p("The council's storm line is open all night. Take photos before you "
                     "clear anything, insurers will ask for them."),
                  {"type": "embed", "url": "https://example.org/council/storm-line",
                   "provider": "Port Ellery council"}]},
        {"headline": "The eye passes over the town",
         "byline": {"contributors": ["Mara Lindqvist"], "location": "Port Ellery"},
         "body": [_p("An eerie calm for about twenty minutes. Forecasters warn the wind will "
                     "return from the opposite direction.")]},
        {"headline": "Correction to earlier post on the shelter",
         "byline": {"contributors": ["Ines Okafor"]},
         "body": [_p("This post was published in error and has been removed.")]},
    ]


def ensure_demo(service: Service, base: str) -> str:
    """Create the demo blog unless it exists; return its slug."""
    conn = service.store.conn
    if queries.find_blog_head(conn, SLUG) is not None:
        return SLUG
    blog_id = new_id()
    service.handle(cmd.CreateBlog(
        blog_id, SLUG, "Storm Halvard: live updates",
        "Live coverage of Storm Halvard as it reaches Port Ellery. This is sample content "
        "written for the liveblog demo; the storm, the town and the people are fictional.",
        ["Mara Lindqvist", "Tomas Brekke", "Ines Okafor"], "The Ellery Gazette",
        "Europe/Oslo"), DEMO)
    now = service.store.clock()
    ids = []
    posts = _posts(base)
    for i, content in enumerate(posts):
        post_id = new_id()
        ids.append(post_id)
        shown = now - timedelta(minutes=7 * (len(posts) - i))
        service.handle(cmd.CreatePost(
            blog_id, post_id, {**content, "display_time": format_time(shown)},
            pinned=i == 0, key_event=i in (0, 4, 10)), DEMO)
    # an edit after publication, shown with its "Edited" marker
    service.handle(cmd.EditPost(blog_id, ids[6], changes={
        "headline": "Power cut to about 4,500 homes",
        "body": [_p("Updated figure from the grid operator. Crews will not go out until "
                    "gusts drop below 90 km/h.")]}), DEMO)
    service.handle(cmd.DeletePost(blog_id, ids[11], "published in error"), DEMO)
    service.handle(cmd.CreatePost(
        blog_id, new_id(), {"headline": "Morning briefing: what we know",
                            "byline": {"contributors": ["Tomas Brekke"]},
                            "body": [_p("A summary of the night, scheduled to go out a "
                                        "minute after the demo starts.")]},
        publish_at=now + timedelta(minutes=1)), DEMO)
    return SLUG
