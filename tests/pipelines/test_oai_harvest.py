"""The OAI harvest step on the real Beam runner: pages kept under OUT/.clirdata/oai/, resume, keyed state.

A real HTTP server on 127.0.0.1 serves three pages; a build killed midway (the server stops giving
page 3) is built again against a healthy server and must equal a clean build, file for file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from clirdata.align.keywords import PairingOptions
from clirdata.extractors.oai import HarvestOptions, OaiRequest, list_records_url
from clirdata.pipelines.erudit import EruditBuild, OaiPageStore, oai_state_folder, run_erudit
from clirdata.pipelines.runner import make_options
from tests.conftest import Reply

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
TOPICS = [
    ("La gestion durable des forêts boréales", "Sustainable management of boreal forests",
     "Cet article analyse la gestion durable des forêts boréales et les politiques publiques adoptées au Québec."),
    ("Les langues autochtones à l’école", "Indigenous languages at school",
     "Cette étude examine la place des langues autochtones dans les écoles primaires du nord du Québec."),
    ("Le climat de la Nouvelle-France", "The climate of New France",
     "L’auteur reconstitue l’histoire du climat de la vallée du Saint-Laurent à partir des récits des colons."),
    ("La santé mentale des étudiants", "The mental health of students",
     "Cette enquête mesure la détresse psychologique des étudiants universitaires pendant leurs examens finaux."),
    ("Le droit des contrats numériques", "The law of digital contracts",
     "Cet article discute des règles du droit civil qui encadrent la formation des contrats conclus en ligne."),
    ("Les musées et leurs publics", "Museums and their visitors",
     "Les auteurs étudient comment les musées régionaux renouvellent leurs expositions pour attirer des familles."),
]
# Page i holds records 2i and 2i+1 and the token "t{i+1}", except the last page.
TOKENS = [None, "t1", "t2"]


def dc_record(number: int) -> str:
    fr_title, en_title, fr_abstract = TOPICS[number]
    return (
        f"<record><header><identifier>oai:test:{number}</identifier><datestamp>2024-01-01</datestamp></header>"
        '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title xml:lang="fr">{fr_title}</dc:title><dc:title xml:lang="en">{en_title}</dc:title>'
        f'<dc:description xml:lang="fr">{fr_abstract}</dc:description>'
        "<dc:language>fre</dc:language><dc:date>2019-05-01</dc:date><dc:rights>CC BY 4.0</dc:rights>"
        "</oai_dc:dc></metadata></record>"
    )


def page(index: int) -> bytes:
    token = f"<resumptionToken>t{index + 1}</resumptionToken>" if index < 2 else ""
    records = dc_record(2 * index) + dc_record(2 * index + 1)
    return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}">'
            "<responseDate>2024-01-01T00:00:00Z</responseDate><request>x</request>"
            f"<ListRecords>{records}{token}</ListRecords></OAI-PMH>").encode()


def serve_pages(server, request: OaiRequest, *, page_3: Reply | None = None) -> None:
    """Serve the three pages at their exact URLs; `page_3` replaces the third page's answer."""
    for index, token in enumerate(TOKENS):
        reply = page_3 if index == 2 and page_3 else Reply(200, page(index))
        server.add(list_records_url(request, token)[len(server.base_url):], reply)


def build(out: Path, request: OaiRequest) -> dict:
    spec = EruditBuild(out_dir=str(out), pairing=PairingOptions(mode="title"), oai=request, oai_delay_s=0,
                       oai_options=HarvestOptions(max_retries=1, backoff_s=0.01, backoff_max_s=0.02))
    return run_erudit(spec, make_options([]), "test")


def data_files(out: Path) -> dict[str, bytes]:
    """Every Parquet file of OUT, by relative path."""
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*.parquet"))}


def test_killed_build_resumes_and_equals_a_clean_build(local_server, tmp_path):
    request = OaiRequest(f"{local_server.base_url}/oai", set_spec="revue.x", source="erudit")
    serve_pages(local_server, request)
    clean = build(tmp_path / "clean", request)
    assert len(local_server.requests) == 3

    local_server.requests.clear()
    serve_pages(local_server, request, page_3=Reply(503, b"down", {"Retry-After": "0"}))
    out = tmp_path / "out"
    killed = build(out, request)
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    assert [(r["stage"], r["reason"]) for r in rejects] == [("read", "http-error")]
    assert killed["stages"][0]["out"] == 4  # pages 1 and 2
    assert len(local_server.requests) == 2 + 2  # pages 1, 2, then page 3 tried twice

    local_server.requests.clear()
    serve_pages(local_server, request)
    resumed = build(out, request)

    assert local_server.requests == ["/oai?verb=ListRecords&resumptionToken=t2"]  # only the missing page
    assert data_files(out) == data_files(tmp_path / "clean")  # same rows, byte for byte
    assert resumed["stages"] == clean["stages"]
    corpus = pq.read_table(out / "corpus/fr.parquet").to_pylist()
    assert sorted(row["source_id"] for row in corpus) == [f"oai:test:{i}" for i in range(6)]

    state = Path(oai_state_folder(str(out), request))
    assert state.parent == out / ".clirdata" / "oai"
    assert sorted(p.name for p in state.iterdir()) == ["page-000000.xml", "page-000001.xml", "page-000002.xml",
                                                       "request.json"]
    assert (state / "page-000002.xml").read_bytes() == page(2)  # the server's bytes, as sent
    assert json.loads((state / "request.json").read_text())["set_spec"] == "revue.x"

    local_server.requests.clear()
    assert build(out, request)["stages"] == clean["stages"]  # a finished harvest is replayed whole
    assert local_server.requests == []


def test_saved_pages_of_another_request_are_not_replayed(local_server, tmp_path):
    first = OaiRequest(f"{local_server.base_url}/oai", set_spec="revue.x", source="erudit")
    other = OaiRequest(f"{local_server.base_url}/oai", set_spec="revue.y", source="erudit")
    serve_pages(local_server, first)
    serve_pages(local_server, other)
    out = tmp_path / "out"
    build(out, first)
    local_server.requests.clear()

    build(out, other)

    assert len(local_server.requests) == 3
    assert local_server.requests[0] == "/oai?verb=ListRecords&metadataPrefix=oai_dc&set=revue.y"
    folders = sorted(p.name for p in (out / ".clirdata" / "oai").iterdir())
    assert folders == sorted([first.state_key(), other.state_key()])


def test_page_store_writes_whole_pages_and_reads_within_its_bound(tmp_path):
    request = OaiRequest("https://repo.example/oai")
    folder = tmp_path / "state"
    store = OaiPageStore(str(folder), request, max_bytes=10)

    assert store.load(0) is None
    store.save(0, b"0123456789")
    store.save(1, b"0123456789A")  # over the bound: kept, but not read back
    store.save(0, b"new")  # a page fetched again replaces the old one

    assert store.load(0) == b"new"
    assert store.load(1) is None
    assert sorted(p.name for p in folder.iterdir()) == ["page-000000.xml", "page-000001.xml", "request.json"]


def test_page_store_that_cannot_write_does_not_stop_the_harvest(tmp_path, caplog):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    store = OaiPageStore(str(blocker / "sub"), OaiRequest("u"), max_bytes=100)
    store.save(0, b"page")  # logged, not raised
    assert store.load(0) is None
    assert any("cannot save page 0" in r.getMessage() for r in caplog.records)
