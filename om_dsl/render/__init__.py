"""om_dsl.render"""
