import pytest

from engine.tour import Progress, chapters

CHAPTERS = chapters("en")




def test_nine_chapters_in_both_languages():
    en, zh = chapters("en"), chapters("zh")
    assert [c.id for c in en] == [c.id for c in zh]
    assert len(en) == 9
    for a, b in zip(en, zh, strict=True):
        assert a.title != b.title and a.body != b.body
        assert [e.code for e in a.examples] == [e.code for e in b.examples]
        assert 1 <= len(a.examples) <= 3


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_examples_run_and_exercise_checks_are_real(kernel, chapter):
    def check_in_kernel():
        return kernel.request("tour_check", chapter=chapter.id, lang="en")

    for example in chapter.examples:
        result = kernel.run(example.code, timeout=120)
        assert result.ok, f"{chapter.id}/{example.id}: {result.error_text}"
    kernel.run("%reset")
    assert not check_in_kernel().passed  # nothing defined yet
    assert kernel.run(chapter.wrong).ok
    wrong = check_in_kernel()
    assert not wrong.passed and wrong.hint and wrong.hint in chapter.hints.values()
    kernel.run("%reset")
    assert kernel.run(chapter.solution).ok
    assert check_in_kernel().passed


def test_progress_is_saved_and_survives_a_corrupt_file(tmp_path):
    path = tmp_path / "progress.json"
    p = Progress(path)
    p.mark_read("create")
    p.mark_passed("create")
    again = Progress(path)
    assert again.read == {"create"} and again.passed == {"create"} and again.current == "create"
    assert (path.stat().st_mode & 0o777) == 0o600
    path.write_text("{not json")
    broken = Progress(path)
    assert broken.read == set() and "could not be read" in broken.warning
