"""Tiers (等级) and growth (成长值): models, services, selectors (docs/members.md)."""
