"""Spans: where a span is validated (``offsets``), written (``services``) and read (``selectors``)."""
