vectors-model
fp-vectors (2: JљМИ5BЗ№:58Х6>КQвк(&DЃщ