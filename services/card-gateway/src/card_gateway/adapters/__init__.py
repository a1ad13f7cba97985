"""Adapters: the pyscard PC/SC backend (the only module of the project that imports pyscard)."""
