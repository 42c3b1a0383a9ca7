vectors-model
fp-vectors (2:  õÄÑóÖŒÝ°lB`t'>J+—ÎQ¸f•ž®Á‡