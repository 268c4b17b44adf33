"""What the app's screens can ask the kernel: one handler for each request type of engine.protocol,
taking the request and returning its answer (dataclasses cross as JSON, see engine.wire)."""

from __future__ import annotations

import sys

from engine import cuda_memory, devices, model_view, tour
from engine.i18n import speak
from engine.kernel import inspections
from engine.kernel.bridge import RequestError
from engine.kernel.live import LiveError, live_function
from engine.kernel.state import display, own_kernel, ready_names
from engine.kernel.training_run import TrainingRun
from engine.protocol import (
    CheckGradients,
    CudaMemory,
    DescribeModel,
    DescribeVariable,
    DeviceStatus,
    DisplayWidth,
    GradExample,
    GradValues,
    Hello,
    LiveExport,
    MemorySummary,
    ModelNames,
    OwnNames,
    ResetPeakMemory,
    Signature,
    TourCheck,
    TrainExport,
    TrainPause,
    TrainResume,
    TrainStart,
    TrainStop,
    Welcome,
)
from engine.repl.completion import signature as find
from engine.repl.variables import details as variable_details
from engine.tasks.own import names_by_kind as own_names

MIN_PRINT_WIDTH = 40


def register(bridge, ip) -> None:
    training = TrainingRun(bridge, lambda: ip.user_ns)
    bridge.training = training  # (%train starts its runs on the same one: engine.kernel.magics)

    # (the handlers import torch and the engine's modules when first asked: loading the extension
    # stays quick, and a kernel that never trains never imports the trainer)
    def hello(request: Hello) -> Welcome:
        import torch

        speak(request.lang)  # %help, notes and the errors of cells, in the app's language
        resolved = devices.resolve(request.device)  # a DeviceError goes back to the app as what it says
        return Welcome(torch.__version__, resolved, devices.status_text(resolved), sys.version.split()[0],
                       tuple(ready_names(ip.user_ns)))

    def device_status(request: DeviceStatus) -> str:
        return devices.status_text(request.device)

    def details(request: DescribeVariable):
        return variable_details(request.name, ip.user_ns)

    def tour_check(request: TourCheck):
        found = tour.chapter(request.chapter)
        if found is None:
            raise RequestError("err.request.chapter", chapter=repr(request.chapter))
        return tour.check(found, ip.user_ns)

    def signature(request: Signature) -> str | None:
        return find(request.name, ip.user_ns)

    def display_width(request: DisplayWidth) -> bool:
        """Draw %plot, and print tensors and arrays (own kernel only: a notebook's print options
        are its owner's), at the app's log width."""
        columns = max(MIN_PRINT_WIDTH, int(request.width))
        display.columns = columns  # %plot draws at the log's width
        if not own_kernel():
            return False
        import numpy as np
        import torch

        torch.set_printoptions(linewidth=columns)
        np.set_printoptions(linewidth=columns)
        return True

    def live_export(request: LiveExport) -> str:
        try:
            return live_function(ip, bridge.emit).export(request.path)
        except LiveError as exc:
            raise RequestError("err.request.plain", text=str(exc)) from None
        except OSError as exc:
            raise RequestError("err.request.write", path=request.path, error=exc.strerror or str(exc)) from None

    bridge.handlers.update({
        Hello: hello,
        DeviceStatus: device_status,
        DescribeVariable: details,
        Signature: signature,
        TourCheck: tour_check,
        GradExample: lambda request: inspections.from_example(request.key).payload(),
        DisplayWidth: display_width,
        LiveExport: live_export,
        CheckGradients: lambda request: inspections.check(request.token),
        GradValues: lambda request: inspections.values(request.token, request.index),
        DescribeModel: lambda request: model_view.describe_named(ip.user_ns, request.name, request.input,
                                                                 training.run_data),
        ModelNames: lambda _request: model_view.module_names(ip.user_ns),
        TrainStart: lambda request: (training.start_named(request.config, request.names, request.tag) if request.names
                                     else training.start(request.config, request.tag)),
        OwnNames: lambda _request: own_names(ip.user_ns),
        TrainPause: lambda _request: training.pause(),
        TrainResume: lambda _request: training.resume(),
        TrainStop: lambda _request: training.stop(),
        TrainExport: lambda request: training.export(request.kind, request.path),
        CudaMemory: lambda _request: cuda_memory.stats(),
        ResetPeakMemory: lambda _request: cuda_memory.reset_peak(),
        MemorySummary: lambda request: cuda_memory.summary(request.device),
    })
