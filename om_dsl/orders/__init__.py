"""Orders in, fulfillment requests out.

Reading and validating commercial orders (TMF622 ProductOrder and the native format:
:mod:`~om_dsl.orders.parse`), decomposing them into fulfillment requests and lines
(:mod:`~om_dsl.orders.decompose`, with the rule engines of :mod:`om_dsl.rules`), explaining
why (:mod:`~om_dsl.orders.explain`) and TMF641 service orders (:mod:`~om_dsl.orders.tmf641`).
The models every later stage reads are in :mod:`~om_dsl.orders.models`.
"""
