"""Field rules of the 推荐表 (no database)."""

from datetime import date

import pytest
from kepu_common.masking import mask_phone
from kepu_talent import fields
from kepu_talent.fields import FieldError


def test_there_are_fifty_six_ethnic_groups():
    assert len(set(fields.ETHNIC_GROUPS)) == 56


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("+86 138-1234-5678", "13812345678"),
        ("0377－63073372", "0377-63073372"),  # the seed's contact number, full-width hyphen
        ("037763073372", "0377-63073372"),
        ("010-88886666", "010-88886666"),
    ],
)
def test_phone_numbers_are_normalised(raw, clean):
    assert fields.clean_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12345", "2381234567", "1381234567", "0377-123", "电话"])
def test_bad_phone_numbers_are_explained_in_chinese(raw):
    with pytest.raises(FieldError, match="联系电话"):
        fields.clean_phone(raw)


def test_masks_keep_only_the_ends():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0377-63073372") == "0377-****3372"
    assert mask_phone("010-62345678-801") == "010-****5678"
    assert fields.mask_email("nyswlqkx@163.com") == "n***@163.com"
    assert fields.mask_id_number("11010519491231002X") == "110105********002X"


def test_id_number_check_digit():
    assert fields.clean_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(FieldError, match="校验位"):
        fields.clean_id_number("110105194912310021")


def test_categories_accept_a_cell_with_several_and_reject_unknown():
    assert fields.clean_categories("青少年科普、农村科普，双创") == [
        "青少年科普",
        "农村科普",
        "服务双创",
    ]
    with pytest.raises(FieldError, match="九类"):
        fields.clean_categories("太空科普")
    with pytest.raises(FieldError, match="至少"):
        fields.clean_categories("")


def test_enumerations():
    assert fields.clean_ethnicity("回") == "回族"
    assert fields.clean_political_status("党员") == "中共党员"
    assert fields.clean_education("本科") == "大学本科"
    with pytest.raises(FieldError, match="民族"):
        fields.clean_ethnicity("火星族")


def test_birth_month_and_age():
    assert fields.clean_birth_month("1980年5月") == "1980-05"
    assert fields.clean_birth_month(date(1975, 12, 3)) == "1975-12"
    assert fields.age_from_birth_month("1980-05", today=date(2026, 4, 30)) == 45
    assert fields.age_from_birth_month("1980-05", today=date(2026, 5, 1)) == 46


def test_a_record_reports_every_bad_field_at_once():
    record, errors = fields.clean_record(
        {"name": "", "gender": "未知", "phone": "123", "employer": "", "categories": []}
    )
    assert record is None
    assert {e.field for e in errors} == {"name", "gender", "phone", "employer", "categories"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.message) for e in errors)


def test_limits_and_labels_come_from_the_field_table():
    record, errors = fields.clean_record(
        {
            "name": "张" * 51,
            "gender": "男",
            "phone": "13812345678",
            "employer": "单" * 101,
            "categories": ["农村科普"],
            "plan": "计" * 4001,
        }
    )
    assert record is None
    messages = {e.field: e.message for e in errors}
    assert messages == {
        "name": "姓名过长（不超过50个字）",
        "employer": "工作单位过长（不超过100个字）",
        "plan": "拟开展科普工作过长（不超过4000个字）",
    }


def test_the_summary_sheet_and_the_form_show_the_fields_the_table_marks():
    from kepu_talent import docx, xlsx

    assert xlsx.HEADERS == (
        "序号",
        "服务类别",
        "姓名",
        "性别",
        "工作单位",
        "职务",
        "联系电话",
        "从事行业",
        "科普专长",
        "拟开展科普工作",
    )
    on_grid = {key for row in docx.GRID for key, _ in row} - {"age"} | set(docx.LONG_TEXTS)
    assert on_grid == {f.key for f in fields.FIELDS if f.on_form}
    assert "id_number" not in on_grid and fields.BY_KEY["id_number"].personal
