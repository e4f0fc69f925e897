"""Lifecycle automation (issue 12, part 6). See docs/members.md, "Automation"."""
