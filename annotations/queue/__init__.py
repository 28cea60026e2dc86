"""The editor's queue: the article list with its filters, and ``next`` (views, forms, selectors)."""
