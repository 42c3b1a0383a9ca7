vectors-model
fp-vectors (2:€ õÄÑóÖŒİ°lB.­<J.™ëgJQÓ14S¼Á3