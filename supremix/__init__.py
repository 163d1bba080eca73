"""supremix: supervised contrastive learning for regression with mixup.

The library behind the SupReMix reproducibility book: losses (:mod:`supremix.losses`),
datasets in their official layouts and synthetic phantoms (:mod:`supremix.data`), encoders
(:mod:`supremix.models`), the training engine (:mod:`supremix.train`), metrics and analyses.
"""

__version__ = "0.1.0"
