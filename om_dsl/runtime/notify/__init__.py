"""Notifications to the originating system: TMF622 events from the event log, a persisted
outbox delivered at least once, hub registrations, in-process subscribers (docs/downstream.md).
"""

from om_dsl.runtime.notify.hub import EventFilter, Hub, Subscription
from om_dsl.runtime.notify.notifier import Notifier, NotifySettings
from om_dsl.runtime.notify.outbox import Delivery
from om_dsl.runtime.notify.signing import SIGNATURE_HEADER, SigningError, sign, verify
from om_dsl.runtime.notify.tmf import CREATE_EVENT, STATE_CHANGE_EVENT, OrderViews

__all__ = [
    "CREATE_EVENT",
    "SIGNATURE_HEADER",
    "STATE_CHANGE_EVENT",
    "Delivery",
    "EventFilter",
    "Hub",
    "Notifier",
    "NotifySettings",
    "OrderViews",
    "SigningError",
    "Subscription",
    "sign",
    "verify",
]
