"""Our CoNLL, brat and W3C exports read by other projects' readers: spaCy 3.8 (``spacy convert --converter ner``),
nltk's ConllCorpusReader, seqeval 1.2.2, pybrat, bratly, validate-web-annotation 0.3.0 and pyld."""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from collections import Counter

import pytest

from annotations.exports.conll import tokenize
from tests.interop.conftest import FIXTURES, ROOT, TOOLS, clean_env, run_tool

pytestmark = [pytest.mark.interop, pytest.mark.django_db]


def conll_kept(exports):
    """The spans IOB2 holds: all but those the export reported as left out or written once."""
    messages = exports.path("corpus.conll.messages").read_text(encoding="utf-8").splitlines()
    gone = {
        int(m.split(" ")[m.split(" ").index("span") + 1])
        for m in messages
        if m.startswith(("left out:", "written once:"))
    }
    assert gone, "the corpus has overlaps and identical spans, so some spans cannot be tagged"
    return sorted((s for s in exports.expected if s.pk not in gone), key=lambda s: (s.article, s.start))


def expected_tagging(exports) -> list[list[str]]:
    """Every token of every article with its IOB2 tag, worked out from the spans (not from the file)."""
    kept = conll_kept(exports)
    words = []
    for article, body in exports.bodies.items():
        tokens = tokenize(body)
        tags = ["O"] * len(tokens)
        for span in (s for s in kept if s.article == article):
            inside = [i for i, t in enumerate(tokens) if t.start >= span.start and t.end <= span.end]
            for n, i in enumerate(inside):
                tags[i] = ("B-" if n == 0 else "I-") + span.label
        words += [[t.text, tag] for t, tag in zip(tokens, tags, strict=True)]
    return words


def test_conll_file_holds_tokens_only(exports):
    text = exports.path("corpus.conll").read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if line and not line.startswith("-DOCSTART-")]
    assert all(len(line.split(" ")) == 4 for line in lines)
    assert [line.rsplit(" ", 3)[0] for line in lines] == [w for w, _ in expected_tagging(exports)]
    assert "# -X- -X- " in text  # "Kaiun #001" and hashtags: a real # token


def test_spacy_convert_reads_our_tokens_and_entities(exports):
    read = run_tool("tools", "readers.py", "spacy", exports.path("corpus.conll"))
    assert read["version"].startswith("3.8.")
    # spaCy keeps each -DOCSTART- line as a token of its own (tagged O); every other token is ours.
    assert read["tokens"].count("-DOCSTART-") == len(exports.bodies)
    assert [t for t in read["tokens"] if t != "-DOCSTART-"] == [w for w, _ in expected_tagging(exports)]
    assert read["entities"] == [[s.label, [t.text for t in tokenize(s.text)]] for s in conll_kept(exports)]


def test_nltk_conll_corpus_reader_reads_every_token_and_tag(exports):
    read = run_tool("tools", "readers.py", "nltk", exports.path("corpus.conll"))
    words = [w for w in read["words"] if w[0] != "-DOCSTART-"]
    assert words == expected_tagging(exports)


def test_seqeval_finds_every_entity_in_strict_iob2(exports):
    read = run_tool("tools", "readers.py", "seqeval", exports.path("corpus.conll"))
    kept = conll_kept(exports)
    assert read["f1_strict"] == 1.0
    assert len(read["entities"]) == len(kept) == read["support"]
    assert Counter(kind for kind, _, _ in read["entities"]) == Counter(s.label for s in kept)
    assert read["tags"] == len(expected_tagging(exports))


@pytest.fixture(scope="module")
def brat_folder(exports, tmp_path_factory):
    folder = tmp_path_factory.mktemp("brat")
    with zipfile.ZipFile(exports.path("brat.zip")) as archive:
        archive.extractall(folder)
    return folder


def brat_expected(exports) -> list:
    """One entity per (label, offsets) and article: brat has no annotator, so identical spans are one entity."""
    rows = []
    for s in exports.expected:
        body = exports.bodies[s.article]
        fragments = [[s.start + m.start(), s.start + m.end()] for m in re.finditer(r"[^\n]+", body[s.start : s.end])]
        row = [f"{s.article}.txt", s.label, fragments, " ".join(body[a:b] for a, b in fragments)]
        if row not in rows:
            rows.append(row)
    return sorted(rows)


def test_pybrat_reads_the_unzipped_export_documents_only(exports, brat_folder):
    # pybrat walks the whole folder: the report beside the collection must not look like a document.
    read = run_tool("tools", "readers.py", "pybrat", brat_folder)
    assert read["documents"] == sorted(f"{pk}" for pk in exports.bodies)
    pybrat = sorted([f"{doc}.txt", kind, spans, mention] for doc, kind, spans, mention in read["entities"])
    assert pybrat == brat_expected(exports)


def test_bratly_reads_every_annotation_and_finds_it_in_the_text(exports, brat_folder):
    read = run_tool("tools", "readers.py", "bratly", brat_folder / "collection")
    assert read["documents"] == sorted(str(pk) for pk in exports.bodies)
    assert all(read["compatible"].values())
    assert read["entities"] == brat_expected(exports)
    conf = (brat_folder / "collection" / "annotation.conf").read_text(encoding="utf-8")
    assert re.search(r"^\[entities\]\nPERSON\nORG\nCLAIM\nSPONSORED\n", conf, re.M)
    assert sorted(p.name for p in brat_folder.iterdir()) == ["collection", "newsnotes-report.md"]


def test_validate_web_annotation_accepts_every_annotation(exports):
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "interop" / "tools" / "validate_w3c.js"), str(exports.path("w3c.jsonld"))],
        capture_output=True, text=True, timeout=120, check=True,
        env=clean_env(NODE_PATH=str(TOOLS / "npm" / "node_modules")),
    )  # fmt: skip
    read = json.loads(done.stdout)
    assert read["version"] == "0.3.0"
    assert len(read["results"]) == len(exports.expected)
    for result in read["results"]:
        # Its only complaint: created/modified are typed as days ("date") where the model has xsd:dateTime.
        assert set(result["errors"]) <= {
            '.created format should match format "date"',
            '.modified format should match format "date"',
        }, result
        assert result["validWithoutTimes"], result


def test_json_ld_expansion_with_the_w3c_context(exports):
    read = run_tool("tools", "readers.py", "pyld", FIXTURES / "w3c" / "anno.jsonld", exports.path("w3c.jsonld"))
    (collection,) = read["expanded"]
    AS, OA = "http://www.w3.org/ns/activitystreams#", "http://www.w3.org/ns/oa#"
    assert collection["@id"] == "urn:newsnotes:spans:all"
    assert collection["@type"] == [AS + "OrderedCollection"]
    (page,) = collection[AS + "first"]
    assert page["@id"] == "urn:newsnotes:spans:all#page1"
    assert page["@type"] == [AS + "OrderedCollectionPage"]
    items = page[AS + "items"][0]["@list"]
    assert len(items) == len(exports.expected)
    got = []
    for item in items:
        assert item["@type"] == [OA + "Annotation"]
        assert item["http://purl.org/dc/terms/created"][0]["@type"] == "http://www.w3.org/2001/XMLSchema#dateTime"
        (target,) = item[OA + "hasTarget"]
        selectors = {s["@type"][0].rsplit("#", 1)[1]: s for s in target[OA + "hasSelector"]}
        position = selectors["TextPositionSelector"]
        article = int(target[OA + "hasSource"][0]["@id"].rsplit(":", 1)[1])
        start, end = (int(position[OA + key][0]["@value"]) for key in ("start", "end"))
        exact = selectors["TextQuoteSelector"][OA + "exact"][0]["@value"]
        creator = item["http://purl.org/dc/terms/creator"][0]["@id"].rsplit(":", 1)[1]
        got.append((article, start, end, exact, creator))
    assert sorted(got) == sorted((s.article, s.start, s.end, s.text, s.annotator) for s in exports.expected)
    assert os.path.getsize(FIXTURES / "w3c" / "anno.jsonld") > 0
