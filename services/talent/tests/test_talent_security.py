"""Holes found by attack on the talent pool: a viewer editing drafts, a formula as a name in
the exported 汇总表, and a masked identity card number rebuilt with the birth month."""

import io

import openpyxl
import pytest
from kepu_common.errors import PermissionDenied
from talent_support import NANYANG, WOLONG, fresh_id_number, record, who

FORMULA = '=HYPERLINK("http://evil.example/x","点击")'


def test_a_viewer_cannot_edit_a_draft_and_a_reporter_can(app):
    t = app.talents.create(who(WOLONG, "reporter"), record(name="只读测试"))
    with pytest.raises(PermissionDenied, match="只能查看"):
        app.talents.update(who(WOLONG, "viewer"), t["id"], record(name="被查看者改名"))
    assert app.talents.get(who(WOLONG), t["id"])["fields"]["name"] == "只读测试"
    edited = app.talents.update(who(WOLONG, "reporter"), t["id"], record(name="填报员改名"))
    assert edited["fields"]["name"] == "填报员改名"


def test_a_formula_typed_as_a_name_is_exported_as_text(app):
    app.talents.create(
        who(WOLONG), record(name=FORMULA, employer="+86-377-1234", position="@SUM(A1)")
    )
    _name, content = app.documents.export(who(NANYANG))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [c for row in sheet.iter_rows(min_row=4) for c in row]
    planted = [c for c in cells if c.value in (FORMULA, "+86-377-1234", "@SUM(A1)")]
    assert len(planted) == 3  # shown exactly as typed ...
    assert all(c.data_type == "s" and c.quotePrefix for c in planted)  # ... and never evaluated


def test_a_masked_id_number_shows_region_and_last_four_and_hides_the_birth_month(app):
    number = fresh_id_number()
    t = app.talents.create(who(WOLONG), record(id_number=number, birth_month="1980-05"))
    listed = app.talents.get(who(WOLONG, "viewer"), t["id"])["fields"]
    assert listed["id_number"] == number[:6] + "********" + number[-4:]
    assert listed["birth_month"] == "****-**"  # with it, the 8 hidden digits were guessable
    revealed = app.talents.get(who(WOLONG, "reviewer"), t["id"], reveal=True)["fields"]
    assert (revealed["id_number"], revealed["birth_month"]) == (number, "1980-05")
