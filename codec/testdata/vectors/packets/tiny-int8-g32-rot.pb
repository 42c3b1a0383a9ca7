vectors-model
fp-vectors (2:  õÄÑóÖŒİ°lB.­<J.™ëgJQJÃÔ²_í—