"""Item kinds: the interface and the kinds built into the runtime (auto, milestone, wait)."""

from om_dsl.runtime.kinds.auto import AutoKind
from om_dsl.runtime.kinds.base import ItemKind, KindRegistry, UnsupportedKind
from om_dsl.runtime.kinds.simple import MilestoneKind, WaitKind

__all__ = ["AutoKind", "ItemKind", "KindRegistry", "MilestoneKind", "UnsupportedKind", "WaitKind"]
