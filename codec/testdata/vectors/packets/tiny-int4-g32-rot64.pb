vectors-model
fp-vectors (2:  õÄÑóÖŒÝ°lBÈe!>J÷Â»QDõ†Oè‰