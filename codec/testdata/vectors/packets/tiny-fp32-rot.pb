vectors-model
fp-vectors (2: õÄÑóÖŒÝ°lJ[¼Ò>$àm¿øC¾Bˆ>òÈl?…÷)?Ô…’?QgUC¬Öz!M