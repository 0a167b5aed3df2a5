"""`clirdata build oai`: any OAI-PMH repository serving oai_dc, end to end over a real HTTP server on 127.0.0.1.

The records are shaped like HAL's oai_dc (titles, abstracts and subjects per `xml:lang`, an untagged HAL
domain subject, Creative Commons deed URLs and an eu-repo access right in `dc:rights`), served on two pages.
The expected queries and qrels were worked out by hand from the keywords below.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from clirdata.cli import main
from clirdata.readers.oai import OaiRequest, identify_url, list_records_url
from tests.conftest import Reply

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
REPOSITORY = "HAL Test Archive"
IDENTIFY = (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}">'
            "<responseDate>2024-01-01T00:00:00Z</responseDate><request verb=\"Identify\">x</request>"
            f"<Identify><repositoryName>{REPOSITORY}</repositoryName><baseURL>x</baseURL>"
            "<protocolVersion>2.0</protocolVersion><adminEmail>a@example.org</adminEmail>"
            "<earliestDatestamp>2000-01-01</earliestDatestamp><deletedRecord>persistent</deletedRecord>"
            "<granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>").encode()

ARTICLES = {
    "oai:hal:hal-001": {
        "en": ("Machine learning for the assessment of students in higher education",
               "This study examines how machine learning models can support the assessment of university students "
               "and what teachers think of automated feedback on their written work.",
               ["machine learning", "education", "assessment"]),
        "fr": ("L'apprentissage automatique pour l'évaluation des étudiants dans l'enseignement supérieur",
               "Cette étude examine comment les modèles d'apprentissage automatique peuvent soutenir l'évaluation "
               "des étudiants universitaires et ce que les enseignants pensent des rétroactions automatisées.",
               ["apprentissage automatique", "éducation", "évaluation"]),
        "rights": ["http://creativecommons.org/licenses/by/4.0/", "info:eu-repo/semantics/openAccess"],
    },
    "oai:hal:hal-002": {
        "en": ("Online learning and the assessment of practical skills",
               "We describe an online course in which practical skills were assessed through recorded videos, and "
               "we report how students and their teachers judged this form of education.",
               ["Education", "Assessment", "online learning"]),
        "fr": ("La formation en ligne et l'évaluation des compétences pratiques",
               "Nous décrivons un cours en ligne dans lequel les compétences pratiques ont été évaluées au moyen de "
               "vidéos enregistrées, et nous rapportons comment les étudiants ont jugé cette formation.",
               ["éducation", "évaluation", "formation en ligne"]),
        "rights": ["https://creativecommons.org/licenses/by-nc-nd/4.0/deed.fr"],
    },
    "oai:hal:hal-003": {
        "en": ("Teachers' views of machine learning in classroom assessment",
               "Interviews with forty secondary school teachers show how they understand machine learning tools "
               "for classroom assessment and which uses of these tools they would accept in education.",
               ["assessment", "machine learning", "education"]),
        "fr": ("Le regard des enseignants sur l'apprentissage automatique dans l'évaluation en classe",
               "Des entretiens avec quarante enseignants du secondaire montrent comment ils comprennent les outils "
               "d'apprentissage automatique pour l'évaluation en classe et quels usages ils accepteraient.",
               ["évaluation", "apprentissage automatique", "éducation"]),
        "rights": [],
    },
}


def dc_record(identifier: str) -> str:
    article = ARTICLES[identifier]
    fields = ["<dc:language>en</dc:language>", "<dc:date>2021-03-15</dc:date>",
              f"<dc:identifier>https://hal.example.org/{identifier.rsplit(':', 1)[1]}</dc:identifier>",
              "<dc:subject>[SHS.EDU]Humanities and Social Sciences/Education</dc:subject>"]
    for lang in ("en", "fr"):
        title, abstract, keywords = article[lang]
        fields.append(f'<dc:title xml:lang="{lang}">{title}</dc:title>')
        fields.append(f'<dc:description xml:lang="{lang}">{abstract}</dc:description>')
        fields += [f'<dc:subject xml:lang="{lang}">{keyword}</dc:subject>' for keyword in keywords]
    fields += [f"<dc:rights>{rights}</dc:rights>" for rights in article["rights"]]
    return (f"<record><header><identifier>{identifier}</identifier><datestamp>2024-01-01</datestamp></header>"
            '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/">{"".join(fields)}</oai_dc:dc></metadata></record>')


def list_records(identifiers: list[str], token: str | None) -> bytes:
    resumption = f"<resumptionToken completeListSize=\"3\">{token}</resumptionToken>" if token else ""
    records = "".join(dc_record(identifier) for identifier in identifiers)
    return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}">'
            "<responseDate>2024-01-01T00:00:00Z</responseDate><request verb=\"ListRecords\">x</request>"
            f"<ListRecords>{records}{resumption}</ListRecords></OAI-PMH>").encode()


def serve_repository(server, *, identify: Reply | None = None) -> str:
    """Identify, then ListRecords on two pages (the second reached by its resumption token); the endpoint URL."""
    url = f"{server.base_url}/oai"
    request = OaiRequest(url)
    server.add(identify_url(url)[len(server.base_url):], identify or Reply(200, IDENTIFY))
    server.add(list_records_url(request)[len(server.base_url):],
               Reply(200, list_records(["oai:hal:hal-001", "oai:hal:hal-002"], "page2")))
    server.add(list_records_url(request, "page2")[len(server.base_url):],
               Reply(200, list_records(["oai:hal:hal-003"], None)))
    return url


def build_oai(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "oai", *args, "--oai-delay", "0"])
    return exit_info.value.code, capsys.readouterr().err


def rows(out: Path, relpath: str) -> list[dict]:
    return pq.read_table(out / relpath).to_pylist()


def test_build_oai_makes_keyword_queries_named_after_the_repository(local_server, tmp_path, capsys):
    url = serve_repository(local_server)
    out = tmp_path / "out"
    code, err = build_oai([url, "--out", str(out)], capsys)
    assert code == 0, err

    # k=3: hal-001 and hal-003 hold {assessment, education, machine learning}; hal-002 holds
    # {assessment, education, online learning}. The HAL domain subject is a classification, not a keyword
    # (with it, each article would hold 4 keywords and make C(4, 3) = 4 combinations).
    queries = rows(out, "queries/en.parquet")
    assert sorted(sorted(q["text"].lower().split(", ")) for q in queries) == [
        ["assessment", "education", "machine learning"], ["assessment", "education", "online learning"]]
    by_text = {frozenset(q["text"].lower().split(", ")): q["_id"] for q in queries}
    machine = by_text[frozenset({"assessment", "education", "machine learning"})]
    online = by_text[frozenset({"assessment", "education", "online learning"})]
    assert sorted((r["query-id"], r["corpus-id"]) for r in rows(out, "qrels/en_fr.parquet")) == sorted([
        (machine, "oai:hal:hal-001:fr"), (machine, "oai:hal:hal-003:fr"), (online, "oai:hal:hal-002:fr")])
    assert sorted((r["query-id"], r["corpus-id"]) for r in rows(out, "qrels/en_en.parquet")) == sorted([
        (machine, "oai:hal:hal-001:en"), (machine, "oai:hal:hal-003:en"), (online, "oai:hal:hal-002:en")])

    corpus = {row["_id"]: row for row in rows(out, "corpus/fr.parquet")}
    assert sorted(corpus) == ["oai:hal:hal-001:fr", "oai:hal:hal-002:fr", "oai:hal:hal-003:fr"]
    assert {row["source"] for row in corpus.values()} == {REPOSITORY}
    assert corpus["oai:hal:hal-002:fr"]["title"] == ARTICLES["oai:hal:hal-002"]["fr"][0]
    assert {row_id: row["license"] for row_id, row in corpus.items()} == {
        "oai:hal:hal-001:fr": "CC BY 4.0", "oai:hal:hal-002:fr": "CC BY-NC-ND 4.0", "oai:hal:hal-003:fr": ""}
    assert corpus["oai:hal:hal-001:fr"]["url"] == "https://hal.example.org/hal-001"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"] == "oai"
    assert manifest["options"]["repository"] == REPOSITORY
    assert (manifest["inputs"]["base_url"], manifest["inputs"]["source"]) == (url, REPOSITORY)
    assert manifest["licenses"] == {"CC BY 4.0": 1, "CC BY-NC-ND 4.0": 1, "unknown": 1}
    stages = {stage["name"]: stage for stage in manifest["stages"]}
    assert [stage["name"] for stage in manifest["stages"]] == ["harvest", "check", "check-fields", "pair"]
    assert (stages["harvest"]["in"], stages["harvest"]["out"], stages["pair"]["out"]) == (3, 3, 3)
    assert all(stage["balanced"] for stage in manifest["stages"])
    card = (out / "README.md").read_text()
    assert f"# {REPOSITORY} CLIR collection: en queries, fr documents" in card
    assert url in card
    assert [path for path in local_server.requests if "Identify" in path] == ["/oai?verb=Identify"]
    assert datasets.load_dataset(str(out), "qrels", split="en_fr").num_rows == 3


def test_source_option_names_the_rows_without_asking_identify(local_server, tmp_path, capsys):
    url = serve_repository(local_server, identify=Reply(500, b"down"))
    out = tmp_path / "out"
    code, err = build_oai([url, "--out", str(out), "--source", "My journals", "--query-mode", "title"], capsys)
    assert code == 0, err
    assert not [path for path in local_server.requests if "Identify" in path]
    assert {row["source"] for row in rows(out, "corpus/fr.parquet")} == {"My journals"}
    titles = sorted(row["text"] for row in rows(out, "queries/en.parquet"))
    assert titles == sorted(article["en"][0] for article in ARTICLES.values())


def test_a_repository_without_a_name_is_refused_before_out_is_touched(local_server, tmp_path, capsys):
    nameless = IDENTIFY.replace(f"<repositoryName>{REPOSITORY}</repositoryName>".encode(), b"")
    url = serve_repository(local_server, identify=Reply(200, nameless))
    out = tmp_path / "out"
    code, err = build_oai([url, "--out", str(out)], capsys)
    assert code == 2
    assert "no repositoryName" in err and "--source" in err
    assert not out.exists()
    assert not [path for path in local_server.requests if "ListRecords" in path]


def test_identify_that_fails_says_so_and_names_the_way_out(local_server, tmp_path, capsys):
    url = serve_repository(local_server, identify=Reply(404, b"no such verb"))
    code, err = build_oai([url, "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert "Identify failed" in err and "--source" in err and "Traceback" not in err
