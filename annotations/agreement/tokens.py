"""The CoNLL export's tokenizer, and a fingerprint of it for the stored boundaries."""

import hashlib

from annotations.exports.conll import TOKEN, tokenize

# Stored boundaries are valid for one tokenizer: a change to the CoNLL export's token pattern changes this
# fingerprint, and every article is tokenized again on its next agreement run.
TOKENIZER = hashlib.sha256(f"{TOKEN.pattern}\0{TOKEN.flags}".encode()).hexdigest()[:16]

__all__ = ["TOKENIZER", "tokenize"]
