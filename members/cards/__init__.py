"""Member cards (paid membership): reads and console pages (payment purpose ``card``:
``payments/cards.py``).

Models live in ``members.models``, write paths in ``members.services.cards``.
"""
