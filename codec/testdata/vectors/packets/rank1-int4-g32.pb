vectors-model
fp-vectors (2M: BÚÈ¶>••€>Ôı‡>J'Éªdßi„¼ı¶éÒ¹G§†|ı¦œ‹hk&9¹:JºÇ“×„¥¬•_¥NQ62%~@~~ª