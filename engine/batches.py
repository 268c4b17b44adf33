"""The first batch of a DataLoader, or of a Dataset batched as a DataLoader would batch it, read
without a UI and without side effects, for looking at a model with real data (the Model view).

The batch is read in this process whatever the loader's `num_workers` says, so no worker process is
started (and none is left running); the loader's own sampler, batch sampler and collate function
give it, so it has the shape the loader's first batch has. Everything that reading could draw from
is put back afterwards: torch's random state (CPU and CUDA; a shuffling sampler without a generator
of its own draws its order from it, and a loader draws a base seed for its workers), numpy's and
Python's (a Dataset's augmentations), and the loader's and sampler's own generators. The learner's
loader itself is not iterated: a persistent-workers loader keeps its iterator as it was.

    first_batch(loader)       -> what next(iter(loader)) gives
    first_batch(dataset)      -> its first DATASET_ITEMS items, collated by default_collate
    batch_inputs(batch)       -> the forward's arguments: the batch itself if it is a tensor,
                                 the first element of an (inputs, targets) batch otherwise
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor

DATASET_ITEMS = 8  # a Dataset's batch: as DataLoader(dataset, batch_size=8) gives it (fewer if it has fewer)


class EmptyData(ValueError):
    """The data has no items, so it has no first batch."""


def is_data(value: Any) -> bool:
    """Whether `value` is a torch DataLoader or Dataset (something first_batch reads)."""
    from torch.utils.data import DataLoader, Dataset

    return isinstance(value, (DataLoader, Dataset))


def _generators(loader) -> list:
    """The torch.Generator objects the loader's order could be drawn from (each once)."""
    import torch

    batch_sampler = getattr(loader, "batch_sampler", None)
    owners = (loader, getattr(loader, "sampler", None), getattr(batch_sampler, "sampler", None))
    found = {id(g): g for g in (getattr(o, "generator", None) for o in owners) if isinstance(g, torch.Generator)}
    return list(found.values())


def _reader(loader):
    """A DataLoader in this process (no workers) over the loader's dataset, with its sampler, batch
    sampler and collate function: the same first batch, without touching the loader's iterator.
    Its base seed comes from a generator of its own."""
    import torch
    from torch.utils.data import DataLoader, IterableDataset

    own = torch.Generator().manual_seed(0)
    dataset = loader.dataset
    if isinstance(dataset, IterableDataset):
        return DataLoader(dataset, batch_size=loader.batch_size, drop_last=loader.drop_last,
                          collate_fn=loader.collate_fn, generator=own)
    if loader.batch_sampler is not None:
        return DataLoader(dataset, batch_sampler=loader.batch_sampler, collate_fn=loader.collate_fn, generator=own)
    return DataLoader(dataset, sampler=loader.sampler, batch_size=None, collate_fn=loader.collate_fn, generator=own)


def first_batch(data: Any) -> Any:
    """The first batch of a DataLoader, or of a Dataset (DATASET_ITEMS items, default_collate),
    as this module's docstring says. EmptyData if there is none; the data's own errors (a failing
    __getitem__, items that do not collate) propagate."""
    import torch
    from torch.utils.data import DataLoader

    from engine.gradcheck import random_states, set_random_states

    if isinstance(data, DataLoader):
        generators, reader = _generators(data), _reader(data)
    else:
        generators, reader = [], DataLoader(data, batch_size=DATASET_ITEMS, generator=torch.Generator().manual_seed(0))
    state = random_states(generators)
    try:
        return next(iter(reader))
    except StopIteration:
        raise EmptyData() from None
    finally:
        set_random_states(state)


def batch_inputs(batch: Any) -> tuple[Tensor, ...] | None:
    """The forward's arguments in a batch: (batch,) for a tensor; for a tuple or list, its first
    element (inputs, targets -> inputs), or the tensors of a first element that is itself a tuple
    or list of tensors (a model of several inputs). None for a batch of another kind."""
    import torch

    if isinstance(batch, torch.Tensor):
        return (batch,)
    if isinstance(batch, (tuple, list)) and batch:
        first = batch[0]
        if isinstance(first, torch.Tensor):
            return (first,)
        if isinstance(first, (tuple, list)) and first and all(isinstance(t, torch.Tensor) for t in first):
            return tuple(first)
    return None
