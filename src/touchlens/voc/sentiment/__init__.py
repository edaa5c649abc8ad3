"""Sentiment of customer texts: :mod:`.lexicon` (fast mode, word-level explanations),
:mod:`.accurate` (embeddings + trained head), :mod:`.head`, :mod:`.quality` and :mod:`.train`.
The batch entry point is :func:`touchlens.voc.analyze.analyze_texts`."""
