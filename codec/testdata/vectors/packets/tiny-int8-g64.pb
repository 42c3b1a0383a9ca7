vectors-model
fp-vectors (2:@BQn<<JëÈÆDQc{ýåò¡