"""Lazy matplotlib import with an install hint."""


def require_matplotlib():
    """Returns ``matplotlib.pyplot`` on the non-interactive Agg backend.

    Raises:
        ImportError: matplotlib is missing; the message gives the install command.
    """
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "keras_rg figures need matplotlib. Install it with: pip install 'keras-rg[plot]'"
        ) from err
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
