"""om_dsl.runtime"""
