"""merchflow's HTTP and process wiring: the app, settings, database, problems, auth, CLI and routes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("merchflow")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0.0.0"
