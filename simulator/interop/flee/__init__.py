"""Flee / DFlee case folders: reader, settings and conversion to a scenario."""
