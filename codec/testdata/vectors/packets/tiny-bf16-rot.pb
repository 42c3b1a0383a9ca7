vectors-model
fp-vectors (2: õÄÑóÖŒÝ°lJÓ>n¿C¾>m?*?“?Që"^¼Ìtõ·