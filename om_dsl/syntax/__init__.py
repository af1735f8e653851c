"""om_dsl.syntax"""
