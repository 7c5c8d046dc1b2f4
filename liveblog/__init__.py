"""liveblog: an event-sourced live-blog backend."""
