"""The typed conversation between the app and the kernel (engine.protocol), without either process."""

from __future__ import annotations

import ast
import dataclasses
import json
import typing
from pathlib import Path

import pytest

from engine import protocol
from engine.autograd import Graph, GraphNode, Recording
from engine.i18n import said
from engine.protocol import (
    EVENTS,
    REQUESTS,
    Hello,
    ProtocolError,
    TrainFinished,
    TrainStart,
    Variables,
    Welcome,
    decode_event,
    decode_reply,
    decode_request,
    encode_event,
    encode_refusal,
    encode_reply,
    encode_request,
)
from engine.repl.variables import Variable
from engine.tasks.moons import MoonsProgress
from engine.tasks.regression import RegressionResult
from engine.training import Progress, Result

ROOT = Path(__file__).resolve().parent.parent


def through_json(data):
    return json.loads(json.dumps(data))


def sample(cls: type):
    """An instance of a protocol dataclass with a value of the right kind in every field."""
    hints = typing.get_type_hints(cls, vars(protocol) | {"Recording": Recording, "Said": typing.Any})
    values = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue
        kind = hints[f.name]
        values[f.name] = {int: 3, str: "x", float: 0.5, bool: True}.get(kind, {"k": 1})
    return cls(**values)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_every_request_crosses_the_wire_as_itself(name):
    request = sample(REQUESTS[name])
    rid, back = decode_request(through_json(encode_request(request, 41)))
    assert rid == 41 and back == request and type(back) is REQUESTS[name]


def test_a_request_carries_its_answer_type_and_its_own_timeout():
    assert typing.get_args(Hello.__orig_bases__[0]) == (Welcome,)  # type: ignore[attr-defined]
    assert Hello.timeout == 120.0 and TrainStart.timeout == 60.0
    assert all(cls.timeout > 0 for cls in REQUESTS.values())


@pytest.mark.parametrize("op", ["no_such_thing", "Request", "Welcome", "Variables", 5, None, "__class__"])
def test_only_the_protocols_own_requests_are_built_from_a_message(op):
    with pytest.raises(ProtocolError) as raised:
        decode_request({"id": 9, "op": op, "args": {}})
    assert raised.value.args[1] == 9  # the refusal still goes to whoever asked


def test_a_request_whose_args_are_not_a_mapping_is_refused():
    with pytest.raises(ProtocolError):
        decode_request({"id": 1, "op": "Hello", "args": ["cpu"]})


def test_answers_and_refusals_come_back_typed():
    reply = decode_reply(through_json(encode_reply(4, Welcome("2.13.0", "cpu", "CPU", "3.11.9", ("torch", "np")))))
    assert reply.ok and reply.rid == 4 and reply.answer == Welcome("2.13.0", "cpu", "CPU", "3.11.9", ("torch", "np"))
    why = said("err.request.no_run")
    refusal = decode_reply(through_json(encode_refusal(5, "no run yet", why)))
    assert not refusal.ok and refusal.error == "no run yet" and refusal.said == why
    garbled = decode_reply({"reply": 6, "ok": False, "error": "e", "said": {"@": "os.system"}})
    assert garbled.said is None and garbled.error == "e"


def test_events_cross_the_wire_typed_with_the_engines_results_inside():
    rows = (Variable("x", "tensor", "(2,)", "float32", "cpu", 8, False),)
    assert decode_event(through_json(encode_event(Variables(rows)))) == Variables(rows)
    result = Result(0.5, 2, 10, 0.1, 1000.0, "cpu", (1.0, 0.5),
                    metrics=RegressionResult((2.0,), 1.0, (2.1,), 1.1, (2.05,), 1.05, 0.4))
    finished = TrainFinished(3, result, model_name="trained_model")
    back = decode_event(through_json(encode_event(finished)))
    assert isinstance(back, TrainFinished) and back.result == result and back.error is None
    failed = decode_event(through_json(encode_event(TrainFinished(3, error=said("err.ddp.stopped")))))
    assert isinstance(failed, TrainFinished) and failed.error == said("err.ddp.stopped")
    progress = protocol.TrainProgress(1, Progress(1, 10, 2, 0.5, 10.0, 1.0, True, MoonsProgress(0.75, "0110")))
    assert decode_event(through_json(encode_event(progress))) == progress
    graph = Graph((GraphNode(0, "AccumulateGrad", "x", True, (), (2,), "float32"),), 0)
    inspected = protocol.Inspected(2, Recording(graph, ()), ())
    assert decode_event(through_json(encode_event(protocol.AutogradShown(inspected)))).inspection == inspected


@pytest.mark.parametrize("body", [{"@": "Hello", "device": "cpu"}, {"@": "KernelReady"}, "Variables", None])
def test_an_event_the_protocol_does_not_have_is_refused(body):
    with pytest.raises(ProtocolError):
        decode_event({"event": body})


def test_no_request_or_event_is_named_by_a_string_outside_the_protocol():
    """The app and the kernel name requests and events by their classes only: a string naming one
    would be a typo found at run time."""
    names = set(REQUESTS) | set(EVENTS)
    found = []
    for path in sorted([*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("tui").rglob("*.py")]):
        if path.name == "protocol.py" and path.parent.name == "engine":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, found
