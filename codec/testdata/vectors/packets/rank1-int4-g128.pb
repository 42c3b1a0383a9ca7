vectors-model
fp-vectors (2M:€BÚÈ¶>J'Éªdßi„¼ý¶éÒ¹G§†|Û–›ŠhjGI©ZY©¸•¸…¦›•m–\QûaÚø*