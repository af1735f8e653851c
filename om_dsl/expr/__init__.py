"""om_dsl.expr"""
