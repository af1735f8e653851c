"""om_dsl.compiler"""
