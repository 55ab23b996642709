"""Query time: the loaded index, fusion of dense and lexical scores, confidence, and what each channel shows."""
