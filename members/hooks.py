"""What members asks of the apps above it (see docs/architecture.md, "Layers").

Members never import a higher app. Where a members flow must let a higher app act, it calls a
hook registered here by that app's ``AppConfig.ready()``. (Merging members has its own
registry: ``members.services.merge.register_merge_handler``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mall.tenancy.models import Tenant
    from members.models import Member


class LoginSceneHandler(Protocol):
    """Called after a login that carried a ``scene`` (share link, poster), once the member is
    known; must not fail the login (``distribution`` binds the shopper to the distributor the
    scene names, and ignores a scene it cannot use)."""

    def __call__(self, *, tenant: Tenant, member: Member, scene: str) -> object: ...


_login_scene_handlers: list[LoginSceneHandler] = []


def register_login_scene_handler(handler: LoginSceneHandler) -> None:
    """Add ``handler`` (once; registering it again is a no-op)."""
    if handler not in _login_scene_handlers:
        _login_scene_handlers.append(handler)


def login_scene_handlers() -> tuple[LoginSceneHandler, ...]:
    """The registered handlers, in registration order."""
    return tuple(_login_scene_handlers)
