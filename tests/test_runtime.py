import pytest

import lamina as lm
from lamina import _core, runtime


def test_version_is_a_string():
    assert isinstance(lm.__version__, str) and lm.__version__.count(".") == 2


def test_set_num_threads_round_trips():
    old = lm.get_num_threads()
    try:
        lm.set_num_threads(1)
        assert lm.get_num_threads() == 1
        lm.set_num_threads(2)
        assert lm.get_num_threads() == 2
    finally:
        lm.set_num_threads(old)


def test_default_threads_is_the_affinity_mask():
    import os

    assert _core.default_num_threads() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("bad", [0, -1, 100000])
def test_set_num_threads_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match=r"n must be between 1 and \d+, got " + str(bad)):
        lm.set_num_threads(bad)


@pytest.mark.parametrize("bad", [1.5, "2", None, True])
def test_set_num_threads_rejects_non_int(bad):
    with pytest.raises(TypeError, match="n must be an int, got"):
        lm.set_num_threads(bad)


def test_isa_selection():
    isas = runtime.supported_isas()
    assert isas[0] == "scalar"
    old = runtime.isa()
    try:
        for name in isas:
            _core.set_isa(name)
            assert runtime.isa() == name
    finally:
        _core.set_isa(old)
    with pytest.raises(ValueError, match="isa must be one of 'scalar', 'avx2', 'avx512', got 'sse9'"):
        _core.set_isa("sse9")
