vectors-model
fp-vectors (2:	А cB^Ё5>J≥цeQk(`”Эт.л