"""The curators' console: corpus curation on top of the corpus admin, labels, spans, assignments, history.

One module per area; importing them registers their admins.
"""

from annotations.admin import articles, boilerplate, history, labels, spans, users, workflow  # noqa: F401
