"""Write the table of uncertain parameters into docs/parameters.md and docs/model.md.

The table goes between the markers ``<!-- table:begin -->`` and ``<!-- table:end -->``.

Run after editing simulator/inputs/parameters.csv: ``python docs/make_parameters.py``.
tests/test_parameters.py fails while the docs and the data file differ.
"""

from __future__ import annotations

import re
from pathlib import Path

from simulator.inputs.parameters import markdown_table, parameter_table

DOCS = (Path(__file__).with_name("parameters.md"), Path(__file__).with_name("model.md"))


def main() -> None:
    """Replace the table between the markers with the one made from the data file."""
    table = markdown_table(parameter_table())
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        new = re.sub(r"(<!-- table:begin -->\n).*?(<!-- table:end -->)",
                     lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
        doc.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
