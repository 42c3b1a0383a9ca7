vectors-model
fp-vectors (2M:  õÄÑóÖŒÝ°lBKü>¡Ü¬>-ì¤>J'˜ŠgvŠ¦‘–•·x¨š£vyšKTªëxw+GÅ¹ºœ¡g«¿…hzhéQœ4˜hCíEÖ