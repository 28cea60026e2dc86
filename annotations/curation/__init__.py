"""Curation: what curators do to the corpus from the admin (``services``) and what they read there (``selectors``)."""
