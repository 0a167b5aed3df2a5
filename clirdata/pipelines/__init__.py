"""Apache Beam wiring: the generic build and synthesis pipelines, writers, manifest and runner options."""

from clirdata.pipelines.storage import use_beam_filesystems

use_beam_filesystems()
