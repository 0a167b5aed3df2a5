"""clirdata: build cross-lingual information retrieval test collections from bilingual sources."""

__version__ = "0.1.0"
