"""Member cards (paid membership): payment purpose ``card``, reads and console pages.

Models live in ``members.models``, write paths in ``members.services.cards``.
"""
