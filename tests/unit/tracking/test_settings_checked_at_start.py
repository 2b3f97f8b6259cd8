"""A bad attendance policy setting stops tracking at start, naming the setting,
rather than failing the first request that needs it."""

import dataclasses

import pytest

from shared.config import load_settings
from shared.service import Runtime, load_definition


@pytest.mark.parametrize("threshold, window", [("eighty", "4"), ("1.5", "4"), ("0.8", "0")])
def test_a_bad_attendance_setting_stops_the_service_naming_it(tmp_path, threshold, window):
    settings = dataclasses.replace(load_settings("tracking"), database_url=f"sqlite:///{tmp_path}/t.sqlite3",
                                   attendance_threshold=threshold, attendance_window_weeks=window)
    with pytest.raises(ValueError, match="DPS_ATTENDANCE_THRESHOLD"):
        Runtime(load_definition("tracking"), settings)


def test_the_default_attendance_setting_is_accepted(tmp_path):
    settings = dataclasses.replace(load_settings("tracking"), database_url=f"sqlite:///{tmp_path}/t.sqlite3")
    Runtime(load_definition("tracking"), settings).engine.dispose()
