"""om_dsl.ir"""
