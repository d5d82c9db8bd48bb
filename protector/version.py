"""Package version, read from the installed distribution metadata."""
from importlib import metadata

try:
    version_string = metadata.version("protector")
except metadata.PackageNotFoundError:  # a source tree, not installed
    version_string = "0.0.0"
