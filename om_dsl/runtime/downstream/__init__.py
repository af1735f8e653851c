"""Downstream systems: callouts' HTTP plumbing, credentials, systems online/offline, callback
tokens and manual tasks (see docs/downstream.md).  The kinds themselves are in
``om_dsl.runtime.kinds`` (``callout``, ``manual``); notifications are in ``om_dsl.runtime.notify``.
"""

from om_dsl.runtime.downstream.request import correlation_id, idempotency_key
from om_dsl.runtime.downstream.systems import Systems, SystemStatus
from om_dsl.runtime.downstream.tasks import Task, Tasks, UnknownQueue
from om_dsl.runtime.downstream.world import CallbackEndpoint, DownstreamSettings

__all__ = [
    "CallbackEndpoint",
    "DownstreamSettings",
    "SystemStatus",
    "Systems",
    "Task",
    "Tasks",
    "UnknownQueue",
    "correlation_id",
    "idempotency_key",
]
