vectors-model
fp-vectors (2:J³Ø=3¹z0^¹¥,>:QÝüû[)“