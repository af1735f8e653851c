"""om_dsl.grammar"""
