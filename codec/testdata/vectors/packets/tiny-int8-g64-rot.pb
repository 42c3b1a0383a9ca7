vectors-model
fp-vectors (2:@ õÄÑóÖŒİ°lB.­<J.™ëgJQÂá¶)¦ONÁ