"""F3 Autograd: the inspector steps through recorded backward passes, built-in or the user's."""

from __future__ import annotations

from engine.protocol import GradExample
from tests.engine_in_process import engine_app
from tests.helpers import running, static_text, type_cell, wait_for
from tui.kernel.fake import FakeKernel


def percent_autograd(kernel: FakeKernel, expression: str) -> None:
    """What `%autograd EXPR` does in the kernel (engine.kernel.magics, tested through a kernel in
    test_kernel.py): record EXPR's backward pass on the user's tensors and send the recording to
    the app, across the wire codec."""
    import json

    from engine.kernel import inspections
    from engine.protocol import AutogradShown, decode_event, encode_event

    inspection = inspections.from_expression(expression, kernel.namespace)
    kernel.send(decode_event(json.loads(json.dumps(encode_event(AutogradShown(inspection.payload()))))))


async def test_autograd_steps_through_the_scalar_example():
    app, _kernel = engine_app(screen="autograd")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None, 60)
        step_text = lambda: static_text(screen.query_one("#ag-step"))  # noqa: E731
        assert "2·(8 − 0) = 16" in step_text()
        seen = []
        for _ in range(5):
            seen.append(step_text())
            await pilot.press("n")
        joined = "\n".join(seen)
        assert "16 × 5 = 80" in joined and "None → 16" in joined and "None → 80" in joined
        await pilot.press("home")
        assert "step 1/5" in static_text(screen.query_one("#ag-title"))
        await pilot.press("g")
        assert await wait_for(pilot, lambda: "All gradients agree" in step_text())
        assert "w: recorded 80, finite differences 80" in step_text() and "float32 rounding" in step_text()
        await pilot.press("f")
        assert "requires_grad=True" in step_text()
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ValuesScreen", 10), app.screen


async def test_autograd_graph_follows_the_step_and_keys_reach_every_step():
    app, _kernel = engine_app(screen="autograd")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None, 60)
        screen.load_example("mlp")
        assert await wait_for(pilot, lambda: "mlp" in screen.title_text, 60)
        box = screen.query_one("#ag-graph-box")
        total = len(screen.recording.steps)

        def marked_in_view() -> bool:  # (the pane follows the ▶ node after the next refresh)
            lines = static_text(screen.query_one("#ag-graph")).splitlines()
            marked = next(i for i, line in enumerate(lines) if "▶" in line)
            return box.scroll_y <= marked < box.scroll_y + box.scrollable_content_region.height

        for _ in range(total):
            assert await wait_for(pilot, marked_in_view, 10), screen.index
            await pilot.press("n")
        box.focus()  # even with the graph pane focused, Home and End go to the first and last step
        await pilot.press("home")
        assert screen.index == 0
        await pilot.press("end")
        assert screen.index == total - 1
        steps = screen.query_one("#ag-step-box")
        steps.focus()
        await pilot.press("home", "pagedown")
        # a step taller than its pane scrolls
        assert await wait_for(pilot, lambda: steps.max_scroll_y == 0 or steps.scroll_y > 0, 10)


async def test_percent_autograd_opens_the_inspector_on_user_tensors():
    app, kernel = engine_app()
    async with running(app, size=(80, 24)) as pilot:
        await type_cell(pilot, "w = torch.tensor(2., requires_grad=True)")
        assert await wait_for(pilot, lambda: "w" in kernel.namespace, 10)
        percent_autograd(kernel, "(3 * w - 1) ** 2")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd", 60)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None)
        leaf_steps = [s for s in screen.recording.steps if s.grad_after is not None]
        assert [s.grad_after.scalar for s in leaf_steps] == [30.0]
        assert "AccumulateGrad (w)" in static_text(screen.query_one("#ag-graph"))


async def test_the_autograd_graph_pane_takes_the_rows_its_graph_needs_up_to_half():
    app, _kernel = engine_app(screen="autograd")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None, 60)
        box = screen.query_one("#ag-graph-box")
        # the scalar example: five nodes, and the frame
        assert await wait_for(pilot, lambda: box.outer_size.height == 5 + 2, 10), box.outer_size
        screen.load_example("mlp")
        assert await wait_for(pilot, lambda: "mlp" in screen.title_text, 60)
        # ten nodes and the frame, within half of 24 rows
        assert await wait_for(pilot, lambda: box.outer_size.height == 12, 10), box.outer_size


async def test_an_example_that_cannot_be_built_says_why_where_the_graph_goes():
    app, _kernel = engine_app(screen="autograd")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None, 60)
        asked = app.kernel.request

        async def failing(request, timeout=None):
            if isinstance(request, GradExample):
                raise RuntimeError("the example broke")
            return await asked(request, timeout)

        app.kernel.request = failing  # type: ignore[method-assign]
        await pilot.press("e")
        await pilot.press(*"mlp", "enter")
        graph = screen.query_one("#ag-graph")
        assert await wait_for(pilot, lambda: "the example broke" in static_text(graph), 10), static_text(graph)
        assert screen.title_text.startswith("scalar")  # the example shown before stays, nothing half-drawn


async def test_the_check_of_a_shared_layer_and_a_nan_says_what_it_found():
    app, kernel = engine_app()
    async with running(app, size=(100, 30)) as pilot:
        await type_cell(pilot, "torch.manual_seed(0); shared = nn.Linear(8, 8); X = torch.randn(5, 4); "
                               "net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared)")
        assert await wait_for(pilot, lambda: "net" in kernel.namespace, 10)
        percent_autograd(kernel, "net(X).sum()")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd", 60)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None and "net(X)" in screen.title_text, 60)
        await pilot.press("g")
        assert await wait_for(pilot, lambda: "All gradients agree" in screen.check_text, 60), screen.check_text
        assert "shared.weight: 64 elements compared" in screen.check_text and "DIFFERS" not in screen.check_text
        app.switch_mode("playground")
        await type_cell(pilot, "xs = torch.tensor([1., -2., 3., 4.], requires_grad=True)")
        assert await wait_for(pilot, lambda: "xs" in kernel.namespace, 10)
        percent_autograd(kernel, "torch.sqrt(xs).nan_to_num().sum()")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd" and "sqrt" in app.screen.title_text, 60)
        await pilot.press("g")
        assert await wait_for(pilot, lambda: "Some gradients differ" in app.screen.check_text, 60)
        assert "the recorded gradient holds NaN at 1 of the 4 elements" in app.screen.check_text
