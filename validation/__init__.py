"""steering-bounds ``validation``: check a real model against the theory's assumptions.

Heavy dependencies (torch, transformers, gguf, accelerate) are optional (``pip install 'steering-bounds[validation]'``)
and imported lazily inside the functions that need them, so ``import validation`` and the ``steering-bounds theory``
command never load them.
"""
