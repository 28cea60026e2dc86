"""Importing annotated corpora: readers of files that carry spans, and the service that stores them.

``records`` (``SpanRecord``, ``AnnotatedRecord``), ``offsets`` (which unit a tool's offsets count), one reader per
format (``doccano``, ``label_studio``), ``registry`` (the plain readers plus these) and ``services``
(``corpus_import``: articles and their spans, all or nothing).
"""
