vectors-model
fp-vectors (2M:@BÚÈ¶>Ôý‡>J'Éªdßi„¼ý¶éÒ¹G§†|Û–›ŠhjGI©ZY©¸•¸…¥¬•_¥NQïüÎN›fg