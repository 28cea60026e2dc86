"""Read a NewsNotes export with another project's reader and print what it found, as one JSON document.

Runs in the tools' own environment (``.interop/tools``: spaCy, nltk, seqeval, pybrat, bratly, pyld), never
in ours: ``python readers.py READER PATH [ARGS]``. Each reader reports what the tool itself parsed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def spacy_convert(path: str) -> dict:
    """``spacy convert --converter ner`` to a DocBin, read back with a blank pipeline (no model download)."""
    import spacy
    from spacy.tokens import DocBin

    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [sys.executable, "-m", "spacy", "convert", path, out, "--converter", "ner", "--file-type", "spacy"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(done.stdout + done.stderr)
        (converted,) = Path(out).glob("*.spacy")
        nlp = spacy.blank("xx")
        docs = list(DocBin().from_disk(converted).get_docs(nlp.vocab))
    return {
        "version": spacy.__version__,
        "output": done.stdout[-2000:],
        "tokens": [token.text for doc in docs for token in doc],
        "entities": [[ent.label_, [token.text for token in ent]] for doc in docs for ent in doc.ents],
    }


def nltk_conll(path: str) -> dict:
    """nltk's ConllCorpusReader with the CoNLL-2003 columns: word, POS, chunk (ignored), NE tag."""
    import nltk
    from nltk.corpus.reader import ConllCorpusReader

    file = Path(path)
    # nltk 3.10 reads corpora only from its data paths: register the export's folder, as a user would.
    nltk.data.path.append(str(file.parent))
    reader = ConllCorpusReader(str(file.parent), [file.name], columntypes=("words", "pos", "ignore", "chunk"))
    words = [[word, tag] for sentence in reader.iob_sents() for word, _, tag in sentence]
    return {"version": nltk.__version__, "sentences": len(reader.sents()), "words": words}


def seqeval_conll(path: str) -> dict:
    """seqeval's entity extraction and strict IOB2 report over the tag column, one list per sentence."""
    import seqeval
    from seqeval.metrics import classification_report, f1_score
    from seqeval.metrics.sequence_labeling import get_entities
    from seqeval.scheme import IOB2

    sentences: list[list[str]] = [[]]
    for line in Path(path).read_text(encoding="utf-8").split("\n"):
        if not line:
            if sentences[-1]:
                sentences.append([])
            continue
        if line.startswith("-DOCSTART-"):
            continue
        sentences[-1].append(line.rsplit(" ", 1)[1])
    if not sentences[-1]:
        sentences.pop()
    entities = get_entities(sentences)
    return {
        "version": getattr(seqeval, "__version__", "1.2.2"),
        "entities": [[kind, start, end] for kind, start, end in entities],
        "f1_strict": float(f1_score(sentences, sentences, mode="strict", scheme=IOB2)),
        "support": int(
            classification_report(sentences, sentences, mode="strict", scheme=IOB2, output_dict=True)["micro avg"][
                "support"
            ]
        ),
        "tags": sum(len(s) for s in sentences),
    }


def pybrat_parse(folder: str) -> dict:
    from pybrat.parser import BratParser

    examples = BratParser(error="raise").parse(folder)
    return {
        "documents": sorted(Path(e.id).name if e.id else "" for e in examples),
        "entities": sorted(
            [Path(e.id).name, ent.type, [[s.start, s.end] for s in ent.spans], ent.mention]
            for e in examples
            for ent in e.entities
        ),
    }


def bratly_parse(folder: str) -> dict:
    """bratly's annotation types parse every .ann line; its Document checks each entity against the .txt."""
    from bratly import (
        AnnotationCollection,
        AttributeAnnotation,
        Document,
        EntityAnnotation,
        NoteAnnotation,
        RelationAnnotation,
    )

    result = {"documents": [], "entities": [], "compatible": {}}
    for txt in sorted(Path(folder).glob("*.txt")):
        annotations: dict = {}
        for line in txt.with_suffix(".ann").read_text(encoding="utf-8").splitlines():
            if line.startswith("T"):
                item = EntityAnnotation.from_line(line)
            elif line.startswith("R"):
                item = RelationAnnotation.from_line(line, annotations)
            elif line.startswith("#"):
                item = NoteAnnotation.from_line(line, annotations)
            elif line.startswith("A"):
                item = AttributeAnnotation.from_line(line, annotations)
            else:
                raise SystemExit(f"{txt.with_suffix('.ann')}: bratly has no reader for {line!r}")
            annotations[item.id] = item
        document = Document(
            fullpath=str(txt.resolve()),
            text=txt.read_text(encoding="utf-8") or " ",
            annotation_collections=[AnnotationCollection(annotations=list(annotations.values()))]
            if annotations
            else [],
        )
        result["documents"].append(txt.stem)
        result["compatible"][txt.stem] = document.check_ann_compatibility_with_txt()
        for item in annotations.values():
            if isinstance(item, EntityAnnotation):
                fragments = [[f.start, f.end] for f in item.fragments]
                result["entities"].append([txt.name, item.label, fragments, item.content])
    result["entities"].sort()
    return result


def pyld_expand(context_file: str, path: str) -> dict:
    """JSON-LD expansion with pyld; the W3C context comes from the fixture file, never from the network."""
    from pyld import jsonld

    context = json.loads(Path(context_file).read_text(encoding="utf-8"))

    def loader(url, options=None):
        if url.rstrip("/") in ("http://www.w3.org/ns/anno.jsonld", "https://www.w3.org/ns/anno.jsonld"):
            return {"contextUrl": None, "documentUrl": url, "document": context}
        raise SystemExit(f"pyld asked for {url}: only the W3C annotation context is available offline")

    jsonld.set_document_loader(loader)
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return {"expanded": jsonld.expand(document)}


READERS = {
    "spacy": spacy_convert,
    "nltk": nltk_conll,
    "seqeval": seqeval_conll,
    "pybrat": pybrat_parse,
    "bratly": bratly_parse,
    "pyld": pyld_expand,
}

if __name__ == "__main__":
    print(json.dumps(READERS[sys.argv[1]](*sys.argv[2:]), ensure_ascii=False))
