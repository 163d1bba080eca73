"""What every contrastive loss does before and after its own terms.

Before: check the inputs, leave autocast (the loss is computed in float32, or float64 for
float64 features, whatever the surrounding precision), gather the batch from all ranks
(:mod:`supremix.losses.distributed`) and L2-normalise. After: the per-anchor reduction
``L = mean of L_i over anchors with at least one positive``, 0 attached to the graph when no
anchor has one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from supremix.fields import unknown_fields

from .distributed import GatheredBatch, gather_batch, mean_over_anchors
from .validation import check_features, check_groups, check_labels

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

NEG_INF = float("-inf")

OptionsT = TypeVar("OptionsT", bound="DataclassInstance")
"""A loss's frozen options dataclass."""


class ContrastBatch:
    """A checked, gathered batch in the compute dtype.

    ``raw`` holds the features as passed (cast to the compute dtype), ``z`` the same rows
    L2-normalised when requested; both cover all ranks (``N`` rows) with gradients. ``anchors``
    are this rank's ``n`` rows of ``z``; in an ``(n, N)`` row matrix anchor ``i``'s own column
    is ``i + offset``, the diagonal ``offset`` of the matrix.
    """

    def __init__(self, batch: GatheredBatch, normalize: bool):
        self.gathered = batch
        self.raw = batch.features
        self.normalized = normalize
        self.z = F.normalize(self.raw, dim=1) if normalize else self.raw
        self.labels = batch.labels
        self.groups = batch.groups
        self.offset = batch.offset
        self.n = batch.local_size
        self.N = self.raw.shape[0]
        self.anchors = self.z[batch.local]
        self.anchor_labels = self.labels[batch.local]

    def self_mask(self) -> Tensor:
        """``(n, N)`` bool: True at each anchor's own column."""
        mask = torch.zeros(self.n, self.N, dtype=torch.bool, device=self.raw.device)
        mask.diagonal(offset=self.offset).fill_(True)
        return mask

    def same_label(self) -> Tensor:
        """``(n, N)``: column has exactly the anchor's label (the anchor's own column included)."""
        return self.anchor_labels[:, None] == self.labels[None, :]

    def positives(self) -> Tensor:
        """``(n, N)``: other views with exactly the anchor's label."""
        same = self.same_label()
        same.diagonal(offset=self.offset).fill_(False)
        return same

    def without_self(self, row_logits: Tensor) -> Tensor:
        """``row_logits`` with -inf at each anchor's own column (an added bias, autograd-safe)."""
        bias = torch.zeros_like(row_logits, requires_grad=False)
        bias.diagonal(offset=self.offset).fill_(NEG_INF)
        return row_logits + bias

    def same_group(self) -> Tensor | None:
        """``(n, N)``: column is in the anchor's group; ``None`` when no groups were given."""
        if self.groups is None:
            return None
        return self.groups[self.batch_rows()][:, None] == self.groups[None, :]

    def batch_rows(self) -> slice:
        """This rank's rows inside the gathered batch."""
        return self.gathered.local

    def mean(self, per_anchor: Tensor, counted: Tensor) -> Tensor:
        """Mean of ``per_anchor`` over counted anchors of all ranks (attached 0 if none)."""
        return mean_over_anchors(per_anchor, counted, self.gathered)


def compute_dtype(features: Tensor) -> torch.dtype:
    """float64 for float64 features, float32 for everything else (bf16/fp16 included)."""
    return torch.float64 if features.dtype == torch.float64 else torch.float32


def full_precision(features: Tensor) -> AbstractContextManager:
    """A context in which autocast is off on the features' device."""
    return torch.autocast(device_type=features.device.type, enabled=False)


def prepare(
    loss: str,
    features: Tensor,
    labels: Tensor,
    groups: Tensor | None = None,
    *,
    normalize: bool,
    gather: bool,
) -> ContrastBatch:
    """Check, cast, gather and optionally normalise a batch; call inside :func:`full_precision`."""
    check_features(loss, features)
    n = features.shape[0]
    # labels stay float64 (exact ties and window boundaries) where the device has float64
    label_dtype = torch.float32 if features.device.type == "mps" else torch.float64
    labels = check_labels(loss, labels, n).to(features.device, label_dtype)
    groups = check_groups(loss, groups, n)
    if groups is not None:
        groups = groups.to(features.device)
    raw = features.to(compute_dtype(features))
    return ContrastBatch(gather_batch(raw, labels, groups, gather=gather), normalize)


def attached_zero(features: Tensor) -> Tensor:
    """A 0 loss that is part of the graph: ``backward`` works and gives zero gradients."""
    return features[:0].sum().to(compute_dtype(features))


def anchor_losses(
    logits: Tensor, denominator_logits: Tensor, batch: ContrastBatch
) -> tuple[Tensor, Tensor]:
    """SupCon-form per-anchor losses from dense ``(n, N)`` rows.

    ``L_i = logsumexp_{a != i} denominator_logits[i, a] - mean_{p in P_i} logits[i, p]``
    (the log-weights or margins of a row live in ``denominator_logits`` only), ``P_i`` the
    other views of equal label. Returns the per-anchor losses (finite everywhere) and the mask
    of anchors with ``|P_i| > 0``.
    """
    positives = batch.positives()
    lse = torch.logsumexp(batch.without_self(denominator_logits), dim=1)
    count = positives.sum(dim=1)
    positive_sum = torch.where(positives, logits, 0.0).sum(dim=1)
    return lse - positive_sum / count.clamp_min(1), count > 0


def make_options(
    loss: str, kind: type[OptionsT], options: OptionsT | None, settings: dict[str, Any]
) -> OptionsT:
    """``options`` with ``settings`` replaced, or ``kind(**settings)``: one options object.

    An unknown setting raises one line naming the loss and the settings it takes.
    """
    unknown = unknown_fields(kind, settings, "option(s)")
    if unknown:
        raise TypeError(f"{loss}: {unknown}")
    if options is None:
        missing = [
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in settings
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise TypeError(f"{loss}: {', '.join(missing)} must be given (no default)")
        return kind(**settings)
    if not isinstance(options, kind):
        raise TypeError(f"{loss}: options must be a {kind.__name__}, got {type(options).__name__}")
    return dataclasses.replace(options, **settings) if settings else options


def sorted_train_labels(loss: str, train_labels: Tensor) -> Tensor:
    """The training labels as a sorted float64 vector, checked (1-D, non-empty, finite)."""
    train_labels = torch.as_tensor(train_labels).detach().to(torch.float64).reshape(-1)
    if train_labels.numel() == 0:
        raise ValueError(f"{loss}: train_labels is empty; expected the training set's labels")
    if not bool(torch.isfinite(train_labels).all()):
        raise ValueError(f"{loss}: train_labels contain non-finite values (NaN or inf)")
    return train_labels.sort().values


class OptionsModule(nn.Module, Generic[OptionsT]):
    """A loss module holding one frozen options object: ``Loss(options)`` or
    ``Loss(field=value, ...)``.

    Subclasses set ``loss_name``, ``options_type`` and ``loss_function``, the functional loss
    that :meth:`forward` calls as ``loss_function(features, labels, options=..., **inputs)``.
    ``batch_inputs`` names which of ``groups`` and ``generator`` the function takes (the others
    are accepted and unused, so every contrastive module is called alike); :meth:`module_inputs`
    adds what the module itself holds.
    """

    loss_name: str = ""
    options_type: type[OptionsT]
    options: OptionsT
    loss_function: ClassVar[Callable[..., Tensor]]
    batch_inputs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: OptionsT | None = None, **settings: object):
        super().__init__()
        self.options = make_options(self.loss_name, self.options_type, options, settings)

    def forward(
        self,
        features: Tensor,
        labels: Tensor,
        groups: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """The loss of ``features`` ``(n, d)`` with ``labels`` ``(n,)`` (and ``groups``,
        ``generator`` where the loss takes them)."""
        given = {"groups": groups, "generator": generator}
        inputs = {name: given[name] for name in self.batch_inputs}
        return self.loss_function(
            features, labels, options=self.options, **inputs, **self.module_inputs()
        )

    def module_inputs(self) -> dict[str, Any]:
        """Keyword inputs of ``loss_function`` held by the module (none by default)."""
        return {}

    def extra_repr(self) -> str:
        fields = dataclasses.asdict(self.options)
        return ", ".join(f"{key}={value!r}" for key, value in fields.items())


class TrainLabelsModule(OptionsModule[OptionsT]):
    """An :class:`OptionsModule` whose loss also reads the training labels:
    ``Loss(train_labels, options)`` or ``Loss(train_labels, field=value, ...)``. The sorted
    labels are a (non-persistent) buffer, passed to ``loss_function`` as ``sorted_train``."""

    train_labels: Tensor

    def __init__(self, train_labels: Tensor, options: OptionsT | None = None, **settings: object):
        super().__init__(options, **settings)
        sorted_train = sorted_train_labels(self.loss_name, train_labels)
        self.register_buffer("train_labels", sorted_train, persistent=False)

    def module_inputs(self) -> dict[str, Any]:
        return {"sorted_train": self.train_labels}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, train_labels={self.train_labels.numel()}"
