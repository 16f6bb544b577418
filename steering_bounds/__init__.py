"""The top floor of steering-bounds: the ``steering-bounds`` command line (:mod:`steering_bounds.cli`)."""
