"""Downstream systems: list them, take one offline (its callouts go on hold) or bring it back
online (held callouts are released).  The switch is persisted; ``changedBy`` is the client,
``reason`` the optional body's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from om_dsl.service.context import Svc, Who
from om_dsl.service.models import SwitchSystem, System, SystemSwitch
from om_dsl.service.operations import system_view
from om_dsl.service.routes.common import AUTH_JSON, DECLARED_QUERY, errors

router = APIRouter(
    tags=["systems"], dependencies=[*AUTH_JSON, *DECLARED_QUERY], responses=errors(400)
)


@router.get("/systems", response_model=list[System], responses=errors())
def list_systems(svc: Svc) -> list[dict[str, Any]]:
    return [system_view(system) for system in svc.runtime.systems.list()]


@router.get("/systems/{name}", response_model=System, responses=errors(404))
def retrieve_system(svc: Svc, name: str) -> dict[str, Any]:
    return system_view(svc.runtime.systems.status(name))


@router.post("/systems/{name}/offline", response_model=SystemSwitch, responses=errors(404))
def take_offline(svc: Svc, who: Who, name: str, body: SwitchSystem | None = None) -> dict[str, Any]:
    return _switch(svc, name, True, who.name, body)


@router.post("/systems/{name}/online", response_model=SystemSwitch, responses=errors(404))
def bring_online(svc: Svc, who: Who, name: str, body: SwitchSystem | None = None) -> dict[str, Any]:
    return _switch(svc, name, False, who.name, body)


def _switch(
    svc: Svc, name: str, offline: bool, by: str, body: SwitchSystem | None
) -> dict[str, Any]:
    """The service's runtime runs the store, so bringing a system online releases here
    whatever it holds for the system, also when the switch was online already (flipped by
    `om systems online`, which only writes the switch beside a running service)."""
    reason = body.reason if body is not None else None
    released = svc.runtime.systems.set_offline(name, offline, by=by, reason=reason)
    return {"system": system_view(svc.runtime.systems.status(name)), "released": released}
