"""Any OAI-PMH repository serving `oai_dc` (HAL, SciELO, OJS journals, Érudit) -> CLIRudit-style collection
(`clirdata build oai URL`): keyword queries from `dc:subject xml:lang`, or title queries from `dc:title
xml:lang`; rows named after the repository (its Identify `repositoryName`, or `--source`); licences
normalised from `dc:rights` (Creative Commons deed URLs become `CC BY 4.0`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar

from clirdata.hub.card import card_template
from clirdata.readers.http import FetchFailed
from clirdata.readers.oai import HarvestOptions, OaiRequest, repository_name
from clirdata.sources.articles import CLIRUDIT, LIMITATIONS, ArticleSource, oai_read_steps
from clirdata.sources.base import CardText, Prepared, Step

NAME = "oai"


class NoRepositoryName(ValueError):
    """The repository gave no name (Identify failed or was empty) and none was given: one line for the user."""


@dataclass(frozen=True)
class OaiSource(ArticleSource):
    """One OAI-PMH ListRecords request; `request.source` names the rows (found by Identify when empty)."""

    name: ClassVar[str] = NAME
    request: OaiRequest = field(default_factory=lambda: OaiRequest(""))
    oai_options: HarvestOptions = field(default_factory=HarvestOptions)

    def named(self) -> OaiSource:
        """This source with its rows' name: the one given, else the repository's Identify `repositoryName`.

        Raises NoRepositoryName when neither is there (the build would otherwise say `source="oai"`).
        """
        if self.request.source:
            return self
        try:
            found = repository_name(self.request.base_url, self.oai_options)
        except FetchFailed as error:
            raise NoRepositoryName(f"Identify failed ({error.detail}): name the repository with --source") from error
        if not found:
            raise NoRepositoryName("the repository's Identify response has no repositoryName: use --source")
        return replace(self, request=replace(self.request, source=found))

    def prepare(self) -> Prepared:
        return Prepared((self.request,), inputs=asdict(self.request))

    def read_steps(self) -> list[Step]:
        return oai_read_steps(self.out_dir, self.oai_options)

    def describe(self) -> dict:
        return {**super().describe(), "oai": asdict(self.request), "repository": self.request.source}

    def card(self, manifest: dict) -> CardText:
        values = self.card_fields(manifest)
        title, description = card_template(NAME, repository=self.request.source, base_url=self.request.base_url,
                                           **values)
        return CardText(title, description, values["license_id"], values["licence_note"],
                        sections=self.card_sections(manifest), limitations=LIMITATIONS.format(k=self.pairing.k),
                        citations=(CLIRUDIT,))
