from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files whose ES module imports point at the hashed names too.

    ``workspace.js`` imports its sibling modules; without this the imports would name unhashed files, which
    whitenoise serves with a short cache and which a deploy could change under an open page.
    """

    support_js_module_import_aggregation = True
