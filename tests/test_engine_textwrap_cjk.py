"""engine.textwrap_cjk on the tour's own Chinese text: the rules of UAX #14 and the W3C's
requirements for Chinese text layout, widths in terminal cells."""

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from engine.textwrap_cjk import ALLOWED, LAST_RESORT, fill, line_spans, min_width, opportunities, wrap

ROOT = Path(__file__).resolve().parent.parent
CLOSING = "。，、；：！？）」』》,;:!?)"
OPENING = "（「『《("
WORD = re.compile(r"[A-Za-z0-9_]")
WIDTHS = [*range(30, 101, 7), 46, 86]  # 46 and 86: the Learn lesson at 80 and 120 columns


def zh_tour_texts() -> list[str]:
    """Every text of the tour in Chinese: the catalog's words, and the Chinese in lessons/tour.json."""
    texts = [v for v in json.loads((ROOT / "engine/locales/zh/tour.json").read_text("utf-8")).values()
             if isinstance(v, str)]

    def strings(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)

    lessons = json.loads((ROOT / "engine/lessons/tour.json").read_text("utf-8"))
    texts += [s for s in strings(lessons) if re.search(r"[\u4e00-\u9fff]", s)]
    return texts


TEXTS = zh_tour_texts()


def first_unit(paragraph: str, start: int) -> str:
    """The piece of `paragraph` from `start` up to its first break point."""
    from engine.textwrap_cjk import ALLOWED, opportunities

    opp = opportunities(paragraph)
    end = next((i for i in range(start + 1, len(paragraph)) if opp[i] == ALLOWED), len(paragraph))
    return paragraph[start:end].rstrip(" ")


def test_the_tour_is_long_and_chinese():
    assert len(TEXTS) > 100 and sum(map(len, TEXTS)) > 5_000


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_is_wider_than_the_width(width):
    for text in TEXTS:
        for line in wrap(text, width):
            assert cell_len(line) <= width, (width, line)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_starts_with_closing_punctuation_or_ends_with_opening(width):
    for text in TEXTS:
        for paragraph in text.split("\n"):
            lines = wrap(paragraph, width)
            for later in lines[1:]:
                first = later.lstrip(" ")[:1]
                assert first not in CLOSING or not first, (width, later)
                # a `.` may start a line only as the start of a name (`.double()`), never alone
                assert not re.match(r"\s*\.(\s|$)", later), (width, later)
            for line in lines[:-1]:
                assert line.rstrip()[-1:] not in OPENING, (width, line)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_word_is_split_unless_wider_than_a_line(width):
    for text in TEXTS:
        for paragraph in text.split("\n"):
            spans = line_spans(paragraph, width)
            for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
                if end == start and WORD.match(paragraph[end - 1]) and WORD.match(paragraph[start]):
                    word = re.search(r"[^\s\u3000-\u9fff\uff00-\uffef]*$", paragraph[:end]).group() + \
                        re.match(r"[^\s\u3000-\u9fff\uff00-\uffef]*", paragraph[start:]).group()
                    assert cell_len(word) > width - 2, (width, word)  # (2: a bullet's hanging indent)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_is_shorter_than_half_unless_a_paragraph_or_a_whole_word_ends_it(width):
    """Greedy filling: a line ends short only where its paragraph ends, or where the next piece
    that may not be divided (a long name like `load_state_dict(torch.load(path,`) is wider than
    the room left."""
    for text in TEXTS:
        for paragraph in text.split("\n"):
            spans = line_spans(paragraph, width)
            for (start, end, indent), (nxt, _, _) in zip(spans, spans[1:], strict=False):
                shown = indent + cell_len(paragraph[start:end])
                if shown * 2 < width:
                    assert shown + 1 + cell_len(first_unit(paragraph, nxt)) > width, (width, paragraph[start:end])


def test_chinese_breaks_between_ideographs():
    assert wrap("一二三四五六七八九十", 8) == ["一二三四", "五六七八", "九十"]


def test_closing_punctuation_stays_with_the_character_before_it():
    lines = wrap("一二三。四五六七", 6)
    assert lines == ["一二", "三。四", "五六七"]
    assert not any(line.startswith("。") for line in lines)
    assert wrap("一二三（四五", 6)[0] != "一二三（"  # never ends a line with an opener


def test_a_latin_word_and_a_code_span_stay_whole():
    assert wrap("默认 LongTensor(int64) 类型", 18) == ["默认", "LongTensor(int64)", "类型"]
    assert wrap("用 `x = torch.ones(2)` 创建", 24) == ["用 `x = torch.ones(2)`", "创建"]
    assert wrap("用 torch.tensor([1, 2, 3]) 创建张量", 27)[0] == "用 torch.tensor([1, 2, 3])"
    assert "DistributedSampler" in wrap("每个进程用 DistributedSampler 取数据", 24)[1]


def test_a_code_span_wider_than_a_line_breaks_at_its_spaces():
    assert wrap("`aaaa bbbb cccc`", 9) == ["`aaaa", "bbbb", "cccc`"]


def test_a_bullet_is_never_alone_and_its_item_hangs():
    lines = wrap("• TensorFlow:静态计算图,部署生态完善", 20)
    assert lines[0].startswith("• TensorFlow")
    assert all(line.startswith("  ") for line in lines[1:])


def test_a_lone_ideograph_does_not_end_a_paragraph():
    assert wrap("张量、numpy 与普通数字", 20) == ["张量、numpy 与普通", "数字"]


def test_english_breaks_at_spaces():
    assert fill("the quick brown fox jumps", 10) == "the quick\nbrown fox\njumps"


def test_widths_are_cells():
    assert min_width("一二三") == 2
    assert min_width("DistributedSampler 是") == len("DistributedSampler")


# Texts of tens of thousands of characters (an error quoting a big tensor, pasted output): the
# breaker's cost grows with their length, not its square. Each case below takes a few hundredths
# of a second; a breaker that walked back over the spaces for every stop, or rescanned the text
# for every unclosed bracket, takes minutes on it. (No clock is read: a loaded machine is slow.)


def test_a_long_run_of_spaces_takes_no_room_and_is_walked_once():
    text = "x" + " " * 50_000 + "y"
    assert line_spans(text, 40) == [(0, 1, 0), (50_001, 50_002, 0)]
    assert fill(text, 40) == "x\ny"
    assert min_width(text) == 1


def test_unclosed_brackets_are_matched_in_one_pass():
    text = "a(" * 20_000  # 20,000 calls that never close: no code span
    lines = wrap(text, 40)
    assert "".join(lines) == text
    assert all(cell_len(line) <= 40 for line in lines)
    assert all(not line.endswith("(") for line in lines[:-1])
    # the last `(` closes at the end: its inner space breaks only as a last resort, unless
    # Chinese inside makes it prose
    assert opportunities(text + "b c)")[len(text) + 2] == LAST_RESORT
    assert opportunities(text + "一 c)")[len(text) + 2] == ALLOWED
