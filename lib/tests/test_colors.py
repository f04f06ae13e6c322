import pytest

from lib.colors import HEX_COLOR, WCAG_AA_NORMAL_TEXT, contrast_ratio, contrast_with_white, relative_luminance


def test_black_on_white_is_21_to_1():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)


def test_luminance_of_the_extremes():
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#FFFFFF") == pytest.approx(1)


@pytest.mark.parametrize("color", ["#13294b", "#1f4e79", "#b5451b", "#767676"])
def test_dark_colours_pass_aa_with_white_text(color):
    assert contrast_with_white(color) >= WCAG_AA_NORMAL_TEXT


@pytest.mark.parametrize("color", ["#ffff00", "#f2b134", "#777777", "#ffffff"])
def test_light_colours_fail_aa_with_white_text(color):
    assert contrast_with_white(color) < WCAG_AA_NORMAL_TEXT


def test_known_ratio():
    # #767676 is the classic lightest grey that passes AA on white: 4.54:1.
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(
    "value,ok", [("#13294b", True), ("#ABCDEF", True), ("13294b", False), ("#fff", False), ("#13294g", False)]
)
def test_hex_pattern(value, ok):
    assert bool(HEX_COLOR.match(value)) is ok
