"""Per-distributor statements and the team tree (console reads).

A statement covers ``[start, end)`` in the tenant's time zone (either bound optional): the
opening balance (ledger before ``start``), every ledger entry with its running balance, the
closing balance, totals per kind, and the commissions created in the period. The XLSX export
(openpyxl) has three sheets: Summary, Ledger, Commissions; amounts are numbers with 2 decimals.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.styles import Font

from distribution.models import Commission, Distributor, LedgerEntry
from distribution.services.distributors import team_queryset
from mall.tenancy.models import Tenant

MONEY_FORMAT = "#,##0.00"
TREE_LIMIT = 1000


@dataclass
class TeamNode:
    distributor: Distributor
    level: int
    children: list[TeamNode] = field(default_factory=list)


@dataclass
class TeamTree:
    root: TeamNode
    uplines: list[Distributor]
    size: int
    truncated: bool


def team_tree(*, tenant: Tenant, distributor: Distributor, limit: int = TREE_LIMIT) -> TeamTree:
    """The distributor's downline over the three tiers as a tree (one query for the team)."""
    team = list(
        team_queryset(tenant=tenant, distributor=distributor)
        .select_related("member", "grade")
        .order_by("depth", "id")[: limit + 1]
    )
    truncated = len(team) > limit
    team = team[:limit]
    root = TeamNode(distributor, 0)
    nodes = {distributor.pk: root}
    for member in team:
        parent = nodes.get(member.parent_id or 0)
        if parent is None:  # its parent fell beyond the limit
            continue
        node = TeamNode(member, parent.level + 1)
        parent.children.append(node)
        nodes[member.pk] = node
    upline_ids = [
        i for i in (distributor.parent_id, distributor.ancestor2_id, distributor.ancestor3_id) if i
    ]
    found = Distributor.objects.for_tenant(tenant).select_related("member").in_bulk(upline_ids)
    uplines = [found[i] for i in reversed(upline_ids) if i in found]
    return TeamTree(root=root, uplines=uplines, size=len(team), truncated=truncated)


@dataclass(frozen=True)
class StatementLine:
    at: datetime
    kind: str
    reference: str
    note: str
    amount: Decimal
    balance: Decimal


@dataclass(frozen=True)
class Statement:
    distributor: Distributor
    start: date | None
    end: date | None
    opening: Decimal
    closing: Decimal
    lines: list[StatementLine]
    totals: dict[str, Decimal]
    commissions: list[Commission]


def _bound(tenant: Tenant, day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=tenant.tz) if day else None


def distributor_statement(
    *, tenant: Tenant, distributor: Distributor, start: date | None, end: date | None
) -> Statement:
    """Ledger and commissions of ``[start, end]`` (whole days, the tenant's time zone)."""
    since = _bound(tenant, start)
    until = _bound(tenant, end + timedelta(days=1)) if end else None
    ledger = LedgerEntry.objects.for_tenant(tenant).filter(distributor=distributor)
    opening = Decimal("0.00")
    if since is not None:
        opening = ledger.filter(created_at__lt=since).aggregate(s=Sum("amount"))["s"] or opening
        ledger = ledger.filter(created_at__gte=since)
    if until is not None:
        ledger = ledger.filter(created_at__lt=until)
    balance = opening
    lines: list[StatementLine] = []
    totals: dict[str, Decimal] = {kind: Decimal("0.00") for kind in LedgerEntry.Kind.values}
    for entry in ledger.order_by("created_at", "id"):
        balance += entry.amount
        totals[entry.kind] += entry.amount
        lines.append(
            StatementLine(
                at=entry.created_at,
                kind=entry.kind,
                reference=entry.reference,
                note=entry.note,
                amount=entry.amount,
                balance=balance,
            )
        )
    commissions = (
        Commission.objects.for_tenant(tenant)
        .filter(beneficiary=distributor)
        .select_related("order", "order_line")
        .order_by("created_at", "id")
    )
    if since is not None:
        commissions = commissions.filter(created_at__gte=since)
    if until is not None:
        commissions = commissions.filter(created_at__lt=until)
    return Statement(
        distributor=distributor,
        start=start,
        end=end,
        opening=opening,
        closing=balance,
        lines=lines,
        totals=totals,
        commissions=list(commissions),
    )


def _local(tenant: Tenant, moment: datetime | None) -> Any:
    """openpyxl cannot store time zones: local wall time of the tenant."""
    if moment is None:
        return None
    return timezone.localtime(moment, tenant.tz).replace(tzinfo=None)


def _sheet(book: Workbook, title: str, header: list[str], first: bool = False) -> Any:
    sheet = book.active if first else book.create_sheet()
    sheet.title = title
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    return sheet


def _money_columns(sheet: Any, letters: str) -> None:
    for letter in letters:
        for cell in sheet[letter][1:]:
            cell.number_format = MONEY_FORMAT
        sheet.column_dimensions[letter].width = 14


def statement_xlsx(*, tenant: Tenant, statement: Statement) -> bytes:
    d = statement.distributor
    book = Workbook()
    summary = _sheet(book, gettext("Summary"), [gettext("item"), gettext("value")], first=True)
    period = gettext("%(start)s to %(end)s") % {
        "start": statement.start.isoformat() if statement.start else gettext("beginning"),
        "end": statement.end.isoformat() if statement.end else gettext("now"),
    }
    rows: list[tuple[str, Any]] = [
        (gettext("shop"), tenant.name),
        (gettext("distributor"), f"{d.member.nickname or '-'} ({d.share_code})"),
        (gettext("period"), period),
        (gettext("time zone"), str(tenant.tz)),
        (gettext("opening balance"), statement.opening),
        *[
            (str(LedgerEntry.Kind(kind).label).lower(), total)
            for kind, total in statement.totals.items()
        ],
        (gettext("closing balance"), statement.closing),
        (gettext("current balance"), d.balance),
    ]
    for row in rows:
        summary.append(list(row))
        if isinstance(row[1], Decimal):
            summary.cell(summary.max_row, 2).number_format = MONEY_FORMAT
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 30

    ledger = _sheet(
        book,
        gettext("Ledger"),
        [
            gettext("time"),
            gettext("kind"),
            gettext("reference"),
            gettext("note"),
            gettext("amount"),
            gettext("balance"),
        ],
    )
    for line in statement.lines:
        ledger.append(
            [_local(tenant, line.at), line.kind, line.reference, line.note, line.amount,
             line.balance]
        )  # fmt: skip
    _money_columns(ledger, "EF")
    ledger.column_dimensions["A"].width = 20
    ledger.column_dimensions["C"].width = 28

    commissions = _sheet(
        book,
        gettext("Commissions"),
        [gettext("created"), gettext("order"), gettext("line"), gettext("tier"),
         gettext("base"), gettext("rate"), gettext("amount"), gettext("reversed"),
         gettext("net"), gettext("status"), gettext("settled")],
    )  # fmt: skip
    for c in statement.commissions:
        commissions.append(
            [_local(tenant, c.created_at), c.order.number, c.order_line.title, c.tier,
             c.base_amount, c.rate, c.amount, c.reversed_amount, c.net_amount, c.status,
             _local(tenant, c.settled_at)]
        )  # fmt: skip
    _money_columns(commissions, "EGHI")
    for letter in "AK":
        commissions.column_dimensions[letter].width = 20
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
