"""The HTTP API: one blueprint a resource (blogs, posts, presence, media, audit, health), an
Api whose errors are problem+json, and the OpenAPI document. This module only hands names on."""

from .registry import register_api

__all__ = ["register_api"]
