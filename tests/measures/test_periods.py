import pytest

from vrp.errors import VrpError
from vrp.measures.periods import make_period, month_index, month_label, periods_between


def m(text):
    return month_index(text)


def test_month_arithmetic_round_trips():
    assert month_label(m("2025-01") - 1) == "2024-12"
    assert month_label(m("2024-03") + 12) == "2025-03"
    with pytest.raises(VrpError, match="not a YYYY-MM month"):
        month_index("2025-13")


@pytest.mark.parametrize("kind, labels", [
    ("financial_year", ["2022/23", "2023/24"]),
    ("calendar_year", ["2023"]),
    ("quarter", ["2022 Q2", "2022 Q3", "2022 Q4", "2023 Q1", "2023 Q2", "2023 Q3", "2023 Q4", "2024 Q1"]),
])
def test_only_whole_periods_inside_the_range(kind, labels):
    got = periods_between(kind, m("2022-04"), m("2024-03"))
    assert [p.label for p in got] == labels
    assert all(p.first >= m("2022-04") and p.last <= m("2024-03") for p in got)


def test_financial_year_runs_april_to_march():
    fy = periods_between("financial_year", m("2023-01"), m("2025-06"))
    assert [(p.label, p.start, p.end) for p in fy] == [("2023/24", "2023-04", "2024-03"), ("2024/25", "2024-04", "2025-03")]


def test_rolling_twelve_months_step_monthly_and_baseline_is_the_twelve_before():
    rolling = periods_between("rolling_12", m("2024-01"), m("2025-02"))
    assert [p.label for p in rolling] == ["12 months to 2024-12", "12 months to 2025-01", "12 months to 2025-02"]
    base = rolling[-1].previous()
    assert (base.start, base.end, base.label) == ("2023-03", "2024-02", "12 months to 2024-02")


def test_previous_period_has_equal_length():
    assert make_period("month", m("2025-01"), m("2025-01")).previous().label == "2024-12"
    assert make_period("quarter", m("2025-01"), m("2025-03")).previous().label == "2024 Q4"
    assert make_period("financial_year", m("2024-04"), m("2025-03")).previous().label == "2023/24"
    custom = make_period("custom", m("2025-01"), m("2025-05")).previous()
    assert (custom.start, custom.end) == ("2024-08", "2024-12")


def test_unknown_period_type_is_a_clear_error():
    with pytest.raises(VrpError, match="unknown period type 'fortnight'"):
        periods_between("fortnight", 0, 24)
