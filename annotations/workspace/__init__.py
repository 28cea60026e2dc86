"""The annotate page: views, forms, drawing the text (``rendering``) and the typed undo history (``undo``)."""
