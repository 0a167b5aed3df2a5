"""Érudit: Article XML files (a folder, a glob, an archive) or Érudit's OAI-PMH endpoint -> CLIRudit-style
collection (`clirdata build erudit`)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import ClassVar

from clirdata.extractors.erudit import parse_article
from clirdata.hub.card import card_template
from clirdata.readers.files import list_inputs, read_input
from clirdata.readers.oai import HarvestOptions, OaiRequest
from clirdata.sources.articles import CLIRUDIT, LIMITATIONS, ArticleSource, oai_read_steps
from clirdata.sources.base import EXPAND, CardText, Prepared, Step

NAME = "erudit"


@dataclass(frozen=True)
class EruditSource(ArticleSource):
    """Érudit article metadata, from files (`location`) or from OAI-PMH (`oai`, its records in `oai_dc`)."""

    name: ClassVar[str] = NAME
    location: str = ""
    oai: OaiRequest | None = None
    oai_options: HarvestOptions = field(default_factory=HarvestOptions)

    def prepare(self) -> Prepared:
        """The input files (a harvest has one seed, its request); their stored bytes are fingerprinted."""
        if self.oai:
            return Prepared((self.oai,), inputs=asdict(self.oai))
        refs = tuple(list_inputs(self.location))
        return Prepared(refs, inputs={"location": self.location}, fingerprinted=tuple(ref.uri for ref in refs))

    def read_steps(self) -> list[Step]:
        if self.oai:
            return oai_read_steps(self.out_dir, self.oai_options)
        return [Step("read", functools.partial(read_input, source=NAME), EXPAND), Step("extract", parse_article)]

    def describe(self) -> dict:
        return {**super().describe(), "oai": asdict(self.oai) if self.oai else None}

    def card(self, manifest: dict) -> CardText:
        values = self.card_fields(manifest)
        title, description = card_template(NAME, **values)
        return CardText(title, description, values["license_id"], values["licence_note"],
                        sections=self.card_sections(manifest), limitations=LIMITATIONS.format(k=self.pairing.k),
                        citations=(CLIRUDIT,))
