"""%train through a real kernel, as the app's cells run it: the learner's own objects train in the
kernel's training thread, the app is told which run to follow, and bad arguments are one sentence."""

from __future__ import annotations

import pytest

from engine.protocol import OwnNames, TrainFinished, TrainShown

pytestmark = pytest.mark.slow  # a kernel process

SETUP = """\
from sklearn.datasets import make_moons
_x, _y = make_moons(n_samples=200, noise=0.2, random_state=0)
X, y = torch.tensor(_x, dtype=torch.float32), torch.tensor(_y)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
other = nn.Linear(2, 2)
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
first = model[0].weight
before = first.detach().clone()
"""


def test_percent_train_trains_the_learners_own_model_in_place(kernel):
    setup = kernel.run(SETUP)
    assert setup.ok, setup.text()
    with kernel.cond:
        mark = len(kernel.events)
    shown, record = kernel.news_after("%train model, (X, y), loss_fn, opt, epochs=30", TrainShown)
    assert record.ok and "Training model on cpu (epochs=30)" in record.output, record.text()
    assert shown is not None and shown.run < 0 and shown.names["data"] == "(X, y)"
    finished = kernel.first_since(mark, lambda e: isinstance(e, TrainFinished) and e.run == shown.run, 120)
    assert finished is not None and finished.error is None, finished
    history = finished.result.loss_history
    assert len(history) == 30 and history[-1] < 0.5 * history[0]
    check = kernel.run("(model[0].weight is first, not torch.equal(first.detach(), before),"
                       " trained_result.loss_history[-1] < trained_result.loss_history[0], trained_model is model,"
                       " len(trained_result.loss_history), trained_result.metrics.accuracy > 0.8)")
    assert check.value == "(True, True, True, True, 30, True)", check.text()
    names = kernel.request(OwnNames())
    assert set(names["model"]) == {"model", "other", "trained_model"} and "X, y" in names["data"] and names["optimizer"] == ("opt",)


@pytest.mark.parametrize(("line", "words"), [
    ("%train model", "%train MODEL, DATA, LOSS, OPTIMIZER, epochs=N"),
    ("%train model, [1, 2], loss_fn, opt", "must be a DataLoader, a Dataset or a pair of tensors (X, y), not a list"),
    ("%train model, (X, y), nn.CrossEntropyLoss(reduction='none'), opt", "must return a scalar"),
    ("%train model, (X, y), loss_fn, optim.SGD(other.parameters(), lr=0.1)", "does not step this Sequential's"),
    ("%train model, (X, y), loss_fn, opt, epochs=0", "epochs"),
    ("%train model, (X, y), loss_fn, nope", "nope failed: NameError"),
    ("%train model, (X, y), loss_fn, opt, colour=1", "no option colour"),
])
def test_bad_arguments_are_one_sentence_and_start_nothing(kernel, line, words):
    setup = kernel.run(SETUP)
    assert setup.ok, setup.text()
    record = kernel.run(line)
    text = record.text()
    assert words in text and "Traceback" not in text and len(text.strip().splitlines()) == 1, text
    assert not any(isinstance(e, TrainShown) for e in record.events)
