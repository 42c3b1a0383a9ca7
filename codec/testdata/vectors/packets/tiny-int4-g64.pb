vectors-model
fp-vectors (2:@BÎªU>J÷•…Qžä:@E{