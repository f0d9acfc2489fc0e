"""The live filter's little language: it lives in `protocol.query`, shared with the server's search."""

from __future__ import annotations

from protocol.query import Filter, ParsedQuery, haystack, parse_query

__all__ = ["Filter", "ParsedQuery", "haystack", "parse_query"]
