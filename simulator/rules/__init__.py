"""The science: pure, cited functions of arrays (behaviour, impacts, placement)."""
