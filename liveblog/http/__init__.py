"""HTTP for people and programs: caching (ETags, conditional requests, 304s, policies)."""
