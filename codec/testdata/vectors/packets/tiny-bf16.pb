vectors-model
fp-vectors (2:Jr¾»?&¿>,¿•=H?Qâ43›ŠJ	j