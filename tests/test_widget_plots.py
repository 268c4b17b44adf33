"""tui/widgets/plots.py: the Training screen's plots keep their frame in Chinese."""



def test_plot_lines_with_chinese_keep_their_width():
    from rich.cells import cell_len
    from rich.text import Text

    from tui.widgets.plots import narrow_text

    line = Text.from_ansi("│ ▞▞ \x1b[31m本次\x1b[0m        │")
    fixed = narrow_text(line)
    assert cell_len(fixed.plain) == len(line.plain)  # as wide on screen as plotext meant it
    assert fixed.plain == "│ ▞▞ 本次      │"
    assert [(s.start, s.end, str(s.style)) for s in fixed.spans] == [(5, 7, "color(1)")]  # styles kept
    assert narrow_text(Text("│ plain ascii │")).plain == "│ plain ascii │"
