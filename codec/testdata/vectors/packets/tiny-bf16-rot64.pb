vectors-model
fp-vectors (2: õÄÑóÖŒÝ°lJ_¾?¿??Ù>H?Q¾&õ±+ëm‹