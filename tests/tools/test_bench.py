"""The benchmark's reading of pytest's durations: the slowest tests and files, as medians over runs."""

from __future__ import annotations

from tools.bench import _slowest, durations_from

REPORT = """\
============================= slowest durations ==============================
11.74s setup    tests/a/test_x.py::test_one[case]
0.37s call     tests/a/test_x.py::test_one[case]
2.00s call     tests/b/test_y.py::test_two
(3 durations < 0.05s hidden.  Use -vv to show these durations.)
"""


def test_durations_add_the_phases_of_a_test():
    assert durations_from(REPORT) == {"tests/a/test_x.py::test_one[case]": 12.11, "tests/b/test_y.py::test_two": 2.0}


def test_the_slowest_are_medians_over_runs_and_files_sum_their_tests():
    runs = [{"f.py::a": 1.0, "f.py::b": 5.0, "g.py::c": 3.0}, {"f.py::a": 9.0, "f.py::b": 5.0}, {"f.py::a": 2.0}]
    tests, files = _slowest(runs, top=2)
    assert tests == [("f.py::b", 5.0), ("f.py::a", 2.0)]
    assert files == [("f.py", 7.0), ("g.py", 0.0)]
