"""A postal code column that holds the town too ("Postnr. og by"), beside an address line that
holds them: through the command line, the code moves into the empty cell with its town."""

from __future__ import annotations

from pathlib import Path

from datavask.connectors.output import read_excel_csv
from tests.flows.cli import cleansed


def test_a_code_moved_from_the_line_takes_its_town_into_a_postnr_og_by_cell(
    tmp_path: Path,
) -> None:
    """``Postboks 123, 7400 Herning`` beside an empty "Postnr. og by" cell went back as the line
    ``Postboks 123`` and the cell ``7400``: the town was written nowhere, though the column is
    the one for it (``3600 Frederikssund`` in the next row). Beside separate ``Postnr.`` and
    ``By`` columns the town went to ``By`` all along."""
    source = tmp_path / "kunder.csv"
    source.write_text(
        "Kundenr;Navn;Adresse;Postnr. og by;Telefon;Email\n"
        "3008;Ole Sand;Postboks 123, 7400 Herning;;97 12 34 56;ole@sand.dk\n"
        "3009;Pia Holst;Vestergade 12, 8000 Aarhus C;;86 12 34 57;pia@holst.dk\n"
        "3011;Erik Holt;Solbakken 1;3600 Frederikssund;47 31 31 31;erik@holt.dk\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update.select("Adresse", "Postnr. og by").rows() == [
        ("Postboks 123", "7400 Herning"),
        ("Vestergade 12", "8000 Aarhus C"),
        ("Solbakken 1", "3600 Frederikssund"),
    ]
    changes = read_excel_csv(out / "changes.csv").filter(field="postal_code")
    assert changes.select("before", "after").rows() == [
        (None, "7400 Herning"),
        (None, "8000 Aarhus C"),
    ]
    # loaded back and cleansed again, nothing is left to change
    again = cleansed(out / "reimport" / "customers_update.csv", tmp_path / "again")
    assert read_excel_csv(again / "changes.csv").height == 0
