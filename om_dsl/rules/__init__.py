"""om_dsl.rules"""
