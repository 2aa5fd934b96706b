"""The household arrays and the exact counters kept over them."""
