vectors-model
fp-vectors (2: BÎªU>J÷•…Q¢pû;¾B