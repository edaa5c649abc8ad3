"""Voice of customer: survey scores by touchpoint and period, language, sentiment (fast
lexicon or accurate embedding mode), topics and pain points. See docs/voc.md.

The Workspace exposes it as ``ws.voc`` (:class:`VoiceOfCustomer`); :func:`analyze_texts`
works on any texts without a workspace.
"""

from touchlens.voc.analyze import analyze_texts
from touchlens.voc.aspects import Aspect, TopicRules, topic_rules
from touchlens.voc.facade import VoiceOfCustomer
from touchlens.voc.language import detect_language
from touchlens.voc.sentiment.lexicon import score_text

__all__ = ["Aspect", "TopicRules", "VoiceOfCustomer", "analyze_texts", "detect_language",
           "score_text", "topic_rules"]
