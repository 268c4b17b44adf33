"""%model through a real kernel, as the app's cells run it: the summary comes to the app that sent
the cell, a bad name or input is one sentence, and the model and random states stay as they were."""

from __future__ import annotations

import pytest

from engine.protocol import DescribeModel, ModelNames, ModelShown

pytestmark = pytest.mark.slow  # a kernel process


def test_percent_model_sends_the_summary_and_leaves_the_model_alone(kernel):
    setup = kernel.run("torch.manual_seed(0)\nnet = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
                       "_rng = torch.get_rng_state()")
    assert setup.ok, setup.text()
    news, record = kernel.news_after("%model net, (32, 4)", ModelShown)
    assert "opening the Model view: net, 4 modules" in record.output, record.text()
    summary = news.summary
    assert [node.output_shape for node in summary.nodes[1:]] == ["(32, 8)", "(32, 8)", "(32, 3)"]
    assert summary.total == 67
    after = kernel.run("(all(p.grad is None for p in net.parameters()), net.training,"
                       " sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in net.modules()),"
                       " torch.equal(torch.get_rng_state(), _rng))")
    assert after.value == "(True, True, 0, True)", after.text()
    refused = kernel.run("%model net, (32, 5)").text()
    assert "net rejected the input (32, 5) float32 at 0 (Linear)" in refused and "Traceback" not in refused
    missing = kernel.run("%model nope").text()
    assert "There is no nope in the namespace" in missing and "Traceback" not in missing
    assert kernel.request(ModelNames()) == (("net", "Sequential"),)
    asked = kernel.request(DescribeModel("net", "(2, 4)"))
    assert asked.output_shape == "(2, 3)" and asked.input_error is None
