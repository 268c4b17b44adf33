"""The text an explanation puts under a traceback: the failing line, the operand table, the hint,
in English and Chinese, within the log's width."""

from engine.explain.model import Explanation, Operand, Site
from engine.explain.render import render
from engine.i18n import Said
from engine.textwrap_cjk import cell_width

A = Operand("a", is_tensor=True, shape=(2, 3), dtype="torch.float32", device="cpu")
W = Operand("self.w", is_tensor=True, shape=(4,), dtype="torch.int64", device="cuda:0", requires_grad=True)
CALL = Operand("model(x)", looked_up=False)
LAYER = Operand("model", kind="Linear(in_features=3, out_features=1, bias=True)", name_in_model="fc2")
SITE = Site("/tmp/ipykernel_1/1.py", 3, "y = a @ self.w")


def test_the_table_gives_each_operand_as_typed_with_its_shape_dtype_device_and_grad():
    lines = render(Explanation(SITE, (A, W, CALL))).splitlines()
    assert lines[0] == "In the failing line: y = a @ self.w"
    assert lines[1].split() == ["a", "(2,", "3)", "float32", "cpu"]
    assert lines[2].split() == ["self.w", "(4,)", "int64", "cuda:0", "requires_grad"]
    assert lines[3].split(None, 1) == ["model(x)", "(not re-evaluated)"]
    # one column for the facts, whatever the expressions' lengths
    assert len({line.index(facts) for line, facts in zip(lines[1:], ("(2, 3)", "(4,)", "(not"), strict=True)}) == 1


def test_a_layer_is_named_by_its_place_in_the_model_and_the_hint_comes_last_in_both_languages():
    hint = Said("explain.table.line", {"line": "x"})  # any catalog sentence stands for a hint here
    en = render(Explanation(SITE, (LAYER,), hint)).splitlines()
    assert en[1].split(None, 1)[1] == "Linear(in_features=3, out_features=1, bias=True), the model's fc2"
    assert en[-1] == "Hint: In the failing line: x"
    zh = render(Explanation(SITE, (LAYER,), hint), "zh").splitlines()
    assert zh[0] == "出错的这一行：y = a @ self.w"
    assert zh[1].endswith("即模型中的 fc2") and zh[-1] == "提示：出错的这一行：x"


def test_a_long_hint_wraps_within_the_width_and_chinese_wraps_too():
    hint = Said("explain.table.line", {"line": "word " * 40})
    for lang in ("en", "zh"):
        lines = render(Explanation(SITE, (A,), hint), lang, width=40).splitlines()
        hint_lines = lines[2:]
        assert len(hint_lines) > 2 and all(cell_width(line) <= 40 for line in hint_lines), lines
    zh = Said("explain.table.line", {"line": "形状不一致" * 20})
    lines = render(Explanation(SITE, (A,), zh), "zh", width=40).splitlines()
    assert len(lines) > 4 and all(cell_width(line) <= 40 for line in lines[2:])


def test_a_long_expression_is_cut_and_nothing_to_say_is_nothing():
    long = Operand("torch.cat([first_tensor, second_tensor, third_tensor])", looked_up=False)
    line = render(Explanation(SITE, (long,))).splitlines()[1]
    assert line.startswith("  torch.cat([first_tensor, se…")
    assert render(Explanation(SITE, (Operand("n", kind=""),))) == ""
    assert render(Explanation(Site("", 0, ""), ())) == ""
