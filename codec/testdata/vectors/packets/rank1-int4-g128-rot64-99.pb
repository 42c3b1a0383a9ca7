vectors-model
fp-vectors (2M:	€ cB"^Ä>J'V¦÷Ô–W¼Æ‰¸‰YÄxŠ¶EÉ‹fJg˜Ö…ŒWW¥JºdiuV¬†Qgf÷HôWÞ