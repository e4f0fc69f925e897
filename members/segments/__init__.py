"""Tags, segments and RFM (issue 12, part 5). See docs/members.md, "Tags and segments"."""
