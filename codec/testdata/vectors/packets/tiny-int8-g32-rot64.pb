vectors-model
fp-vectors (2:  õÄÑóÖŒİ°lBºU<JçŒD=1ZQ4é@Îğ>®L