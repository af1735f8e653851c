"""The rule engines: one rule IR, two engines behind one interface.

:mod:`~om_dsl.rules.program` compiles a catalog's rules to closures once;
:mod:`~om_dsl.rules.engine` is the interface; :mod:`~om_dsl.rules.compiled` (the default) and
:mod:`~om_dsl.rules.durable_engine` (durable-rules, through the hardened
:mod:`~om_dsl.rules.durable_adapter`) implement it; :mod:`~om_dsl.rules.select` picks one.
"""
