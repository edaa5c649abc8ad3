"""AI-assistant answers as a touchpoint: brand mentions, citations, position and tone.

touchlens does not call the assistants: you collect answers (JSONL/CSV with collected_at,
assistant, prompt, answer, cited_urls, topic, market, language), ingest them as kind
``ai_answers``, and measure your brand against competitors (:func:`visibility_report`,
``Workspace.ai_visibility``, ``touchlens ai-visibility``). See docs/ai_visibility.md.
"""

from touchlens.aivis.brands import Brand, BrandSet
from touchlens.aivis.matching import BrandMatcher, Reading
from touchlens.aivis.mentions import answer_mentions
from touchlens.aivis.metrics import BY, ai_visibility, stability, wilson_interval
from touchlens.aivis.report import visibility_report

__all__ = ["BY", "Brand", "BrandMatcher", "BrandSet", "Reading", "ai_visibility",
           "answer_mentions", "stability", "visibility_report", "wilson_interval"]
