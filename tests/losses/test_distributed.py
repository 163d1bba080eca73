"""Two gloo processes contrasting the global batch equal one process on the whole batch."""

from __future__ import annotations

import pytest
import torch
import torch.multiprocessing as mp
from ddp_worker import DENSE, SIZES, global_batch, loss_cases, run

from supremix.losses import supremix_loss, supremix_rows


@pytest.mark.slow
def test_two_ranks_equal_one_process_in_loss_and_gradients(tmp_path, monkeypatch):
    """Every loss, SupReMix with both reductions, every window kind, chunked and dense."""
    monkeypatch.setattr(supremix_rows, "MIN_BUDGET", 1)
    mp.spawn(run, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=len(SIZES), join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(len(SIZES))]
    x, y, groups, lam, inputs = global_batch()
    world = len(SIZES)
    everything = slice(None)
    starts = [sum(SIZES[:r]) for r in range(world)]

    for name, loss_fn in loss_cases(y, groups, lam).items():
        if name == "simclr":
            # each rank pairs rows i and i + n/2 of ITS batch; one process needs the views
            # of all ranks' first halves, then all second halves
            halves = [list(range(s, s + n // 2)) for s, n in zip(starts, SIZES, strict=True)]
            order = torch.tensor(
                [i for h in halves for i in h] + [i + len(h) for h in halves for i in h]
            )
        else:
            order = torch.arange(len(y))
        whole = x[order].clone().requires_grad_(True)
        expected = loss_fn(whole, order if name != "simclr" else everything)
        expected.backward()
        grad = torch.empty_like(x)
        grad[order] = whole.grad
        keys = [name, f"{name}{DENSE}"] if name.startswith("supremix") else [name]
        for rank, (start, n) in enumerate(zip(starts, SIZES, strict=True)):
            for key in keys:  # SupReMix: the chunked and the dense small-batch path
                value, local_grad = ranks[rank][key]
                torch.testing.assert_close(value, expected.detach(), rtol=1e-10, atol=1e-12)
                # DDP divides summed gradients by the world size; the gather hands W dL/dz
                torch.testing.assert_close(
                    local_grad / world, grad[start : start + n], rtol=1e-9, atol=1e-12
                )

    torch.manual_seed(0)
    model = torch.nn.Linear(5, 4).double()
    expected = supremix_loss(model(inputs), y, temperature=0.5, window=2, neg_lambdas=lam)
    expected.backward()
    for rank in range(world):
        value, grads = ranks[rank]["ddp_model"]
        torch.testing.assert_close(value, expected.detach(), rtol=1e-10, atol=1e-12)
        for got, want in zip(grads, [p.grad for p in model.parameters()], strict=True):
            torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)
