"""Interoperability with other tools' formats."""
