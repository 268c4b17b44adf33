"""engine.explain.syntax: the two ways a block pasted from notes fails to parse (two statements run
together on a line; a triple quote left over from the notes' text), named, and mended."""

from __future__ import annotations

import ast

import pytest

from engine.explain.syntax import diagnose, fixed
from engine.i18n import Said


def error_of(source: str) -> SyntaxError:
    try:
        ast.parse(source)
    except SyntaxError as error:
        return error
    raise AssertionError("parses")


def parses(source: str) -> bool:
    compile(source, "<cell>", "exec")
    return True


# As the notes show it: the code, then the printed results in a string whose opening quote the
# text put at the end of the last code line.
NOTES_BLOCK = '''import torch #需要安装torch库
import numpy as np# 1.创建张量标量
data = torch.tensor(10)
print(data)
print("----------")
# 3.列表创建张量
data = [[10,20,30], [40,50,60]]
data = torch.tensor(data)
print(data)
print("----------")"""
打印结果:
tensor(10)
----------
tensor([[10, 20, 30],[40, 50, 60]])
----------"""
'''


def test_two_statements_on_one_line_are_named_and_split_after_the_call():
    source = "import torch\ndata = 1\nprint(data)data = torch.tensor([[1, 2], [3, 4]])\n"
    said = diagnose(source, error_of(source))
    assert said == Said("explain.syntax.glued",
                        {"line": 3, "first": "print(data)", "second": "data = torch.tensor(…)"})
    assert said.words("en") == ("Line 3 holds two statements run together: `print(data)` and "
                                "`data = torch.tensor(…)`; put the second on a line of its own.")
    assert "第 3 行" in said.words("zh")
    assert fixed(source) == "import torch\ndata = 1\nprint(data)\ndata = torch.tensor([[1, 2], [3, 4]])\n"


def test_a_stray_triple_quote_that_opens_an_unterminated_string_is_removed():
    source = 'data = 1\nprint(data)\nx = 2\nprint(x)\nprint(data)"""'
    said = diagnose(source, error_of(source))
    assert said == Said("explain.syntax.stray_quote", {"line": 5, "quotes": '"""'})
    assert said.words("en") == "Line 5 ends with `\"\"\"`, left over from the notes' text: delete it."
    assert fixed(source) == "data = 1\nprint(data)\nx = 2\nprint(x)\nprint(data)"
    assert fixed("print(1)'''\n") == "print(1)\n"


def test_a_stray_quote_above_the_line_python_names_is_found():
    """The stray quote opens a string that the notes' next quote closes, so Python's tokenizer
    stops at the notes' quote after it, which nothing closes: the stray one is the line named."""
    source = 'print(data)"""\n"""\ntorch.Tensor 根据形状创建张量\n"""\nimport torch\n'
    assert error_of(source).lineno == 4
    assert diagnose(source, error_of(source)) == Said("explain.syntax.stray_quote", {"line": 1, "quotes": '"""'})
    assert fixed(source) == 'print(data)\n"""\ntorch.Tensor 根据形状创建张量\n"""\nimport torch\n'


def test_the_notes_block_with_its_printed_results_keeps_them_as_a_string():
    said = diagnose(NOTES_BLOCK, error_of(NOTES_BLOCK))
    assert said is not None and said.code == "explain.syntax.glued" and said.values["line"] == 10
    mended = fixed(NOTES_BLOCK)
    assert mended is not None and parses(mended)
    assert mended.splitlines()[9:11] == ['print("----------")', '"""']
    assert "tensor(10)" in ast.literal_eval(ast.parse(mended).body[-1].value)  # the results: a string still


def test_the_notes_block_cut_before_its_results_ends_without_the_quote():
    code = NOTES_BLOCK.split("打印结果")[0]
    mended = fixed(code)
    assert mended is not None and parses(mended)
    assert mended.splitlines()[-1] == 'print("----------")'


def test_several_glued_lines_in_one_block_are_all_split():
    source = ("import torch#设置随机数种子\n"
              "torch.manual_seed(1)data1 = torch.randint(0,10, [1,2,3]) # shape: [1,2,3]\n"
              "data2 = torch.randint(0,10, [1,2,3])\n"
              "cat0 = torch.cat([data1, data2], dim=0)print(cat0)\n"
              "y = cat0*2print(y)\n")
    # Python names the last line first: `2print` stops its tokenizer before its parser starts
    assert diagnose(source, error_of(source)).values == {"line": 5, "first": "y = cat0*2", "second": "print(y)"}
    assert fixed(source) == ("import torch#设置随机数种子\n"
                             "torch.manual_seed(1)\n"
                             "data1 = torch.randint(0,10, [1,2,3]) # shape: [1,2,3]\n"
                             "data2 = torch.randint(0,10, [1,2,3])\n"
                             "cat0 = torch.cat([data1, data2], dim=0)\n"
                             "print(cat0)\n"
                             "y = cat0*2\n"
                             "print(y)\n")


def test_three_statements_on_one_line_become_three_lines():
    assert fixed("print(a)print(b)print(c)") == "print(a)\nprint(b)\nprint(c)"


def test_indented_code_keeps_its_indentation():
    source = ("def scalar_grad():\n"
              "    x = torch.tensor(5)\n"
              "    for i in range(2):\n"
              "        loss.backward()print(w.grad)\n"
              "    return x\n")
    assert diagnose(source, error_of(source)).values["line"] == 4
    mended = fixed(source)
    assert mended == ("def scalar_grad():\n"
                      "    x = torch.tensor(5)\n"
                      "    for i in range(2):\n"
                      "        loss.backward()\n"
                      "        print(w.grad)\n"
                      "    return x\n")


def test_a_statement_that_continues_on_the_next_lines_is_split_too():
    source = "print(x)data = torch.tensor([[1, 2],\n                      [3, 4]])\nprint(data)"
    assert fixed(source) == "print(x)\ndata = torch.tensor([[1, 2],\n                      [3, 4]])\nprint(data)"


def test_a_comment_glued_to_code_and_magics_are_fine():
    source = "import numpy as np# 1.创建张量标量\n%timeit np.ones(3)\nprint(np.ones(2))print(1)\n"
    assert fixed(source) == "import numpy as np# 1.创建张量标量\n%timeit np.ones(3)\nprint(np.ones(2))\nprint(1)\n"


@pytest.mark.parametrize("source", [
    "for i in range(3)\n    print(i)",  # a missing colon
    "x = (1, 2",  # a bracket never closed
    "def f(:\n    pass",
    "import torchdata = torch.randint(0, 10, [2,3,4])",  # glued inside a name: nothing to tell apart
    "打印结果:\ntensor(10)",  # the notes' own text
])
def test_other_syntax_errors_are_not_diagnosed_nor_fixed(source):
    assert diagnose(source, error_of(source)) is None
    assert fixed(source) is None


def test_a_source_that_parses_needs_no_fix():
    assert fixed("print(1)\nx = 2  # a comment\n") is None


def test_what_fixed_gives_compiles():
    for source in ["print(data)data = 1", 'print(1)"""', NOTES_BLOCK, "a = 1b = 2", "x = [1]y = {2: 3}z = (4,)",
                   "if True:\n    print(1)print(2)\n"]:
        mended = fixed(source)
        assert mended is not None and parses(mended), source


def test_a_stray_quote_whose_unterminated_string_hid_a_glued_line_above():
    source = 'data = [[1, 2], [3, 4]]\nprint(len(data))data = data[0]\nprint(data)"""'
    assert diagnose(source, error_of(source)) == Said("explain.syntax.stray_quote", {"line": 3, "quotes": '"""'})
    assert fixed(source) == 'data = [[1, 2], [3, 4]]\nprint(len(data))\ndata = data[0]\nprint(data)'


def test_a_quote_that_closes_the_notes_text_is_kept():
    source = '"""\n打印结果:\ntensor(10)"""\nprint(1)print(2)'
    assert fixed(source) == '"""\n打印结果:\ntensor(10)"""\nprint(1)\nprint(2)'
