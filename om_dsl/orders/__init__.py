"""om_dsl.orders"""
