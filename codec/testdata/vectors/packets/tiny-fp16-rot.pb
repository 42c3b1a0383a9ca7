vectors-model
fp-vectors (2: õÄÑóÖŒİ°lJ–6o»²t0f;P9”<Qœº­ü§Fƒb