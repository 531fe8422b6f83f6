"""What a feature description asks for: the kind of workflow, how complex it is, how hard
the model should think, and which research topics to give the research agents.

Pure functions of the text; the same description always gives the same analysis.

The score is the seed's::

    score = 3 x mentions of implement/architecture     (implements, implementation, ...)
          + 2 x mentions of add/improve                (adds, added, improvement, ...)
          + 4 x mentions of security/breaking          (secure, securing, ...)
          + estimated_files // 5
          + (research_topics - 1) x 2                  (0 for no topic)

The seed sizes the research from the score and the score from the research; here the
topic count comes from the score before its last term, then that term is added:

    base score 0-3  low       0 topics (1 for an investigation, whose point is research)
               4-6  medium    2 topics
               7-9  high      3 topics
               10+  critical  4 topics

``complexity`` and ``thinking_mode`` come from the final score, in the same bands:
None (standard), "think", "think hard", "think harder".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Analysis", "analyze", "WORKFLOW_TYPES", "estimate_files", "workflow_type",
           "research_topics", "complexity_band", "thinking_mode", "MAX_TOPIC"]

WORKFLOW_TYPES = ("feature", "refactor", "debug", "investigation")
MAX_TOPIC = 40

# Keyword weights of the score, as the seed gives them.
_WEIGHTS = (
    (3, re.compile(r"\b(?:implement\w*|architect\w*)")),
    (2, re.compile(r"\b(?:add(?:s|ed|ing)?|improv(?:e|es|ed|ing|ement|ements))\b")),
    (4, re.compile(r"\b(?:secur\w*|breaking)")),
)

# The first of these words in the description names the workflow; none: a feature.
_TYPE_WORDS = {
    "debug": r"fix\w*|bug\w*|debug\w*|crash\w*|broken|fail\w*|error\w*|regression\w*",
    "refactor": r"refactor\w*|restructur\w*|reorganis\w*|reorganiz\w*|clean(?:up|\s+up)|"
                r"renam\w*|simplif\w*|extract\w*|decoupl\w*|modulari\w*",
    "investigation": r"investigat\w*|research\w*|analy[sz]\w*|explor\w*|understand\w*|"
                     r"evaluat\w*|compar\w*|audit\w*|assess\w*|why",
    "feature": r"add\w*|implement\w*|build\w*|creat\w*|introduc\w*|support\w*|enabl\w*",
}
_TYPE_WORD = re.compile(r"\b(?:" + "|".join(f"(?P<{kind}>{words})"
                                            for kind, words in _TYPE_WORDS.items()) + r")\b")

# A description's parts: split at punctuation and at words that join requirements.
_PART_SPLIT = re.compile(r"[,;:()\[\]!?\n]+|\.(?=\s|$)|\b(?:and|with|plus|including|using|"
                         r"via|or|then|also)\b")
_FILE_MENTION = re.compile(
    r"(?<![\w/.-])(?:[\w.-]+/)+[\w.-]+|\b[\w-]+\.(?:py|sh|bash|md|js|jsx|ts|tsx|go|rs|java|"
    r"kt|rb|php|c|h|cc|cpp|hpp|cs|swift|json|ya?ml|toml|ini|cfg|sql|html|css|scss|vue)\b")
_WIDE = re.compile(r"\b(?:all|every|entire|whole|across|codebase|project-wide|everywhere)\b")
_WORD = re.compile(r"[a-z0-9]+")

# Words that say what to do rather than what about: left out of research topics.
_STOP_WORDS = """
a an the this that these those our my your its their of in on at to for from by into onto
is are be been being it as new existing current some any each all every entire whole
add adds added adding implement implements implemented implementing implementation create
creates build builds make makes fix fixes fixed fixing refactor refactors refactoring
improve improves improved improving update updates updating support supports enable
enables introduce introduces investigate investigating research analyze analyse explore
evaluate compare understand why how what when where which should must can could
would will need needs needed proper properly better so than not no only just very use
"""
_STOP = frozenset(_STOP_WORDS.split())

_GENERIC_TOPICS = {
    "feature": ("existing_patterns", "best_practices", "integration_approaches",
                "testing_strategy"),
    "refactor": ("current_structure", "target_design", "migration_risks", "test_coverage"),
    "debug": ("failure_reproduction", "root_cause", "related_code", "regression_tests"),
    "investigation": ("current_behavior", "alternatives", "tradeoffs", "prior_art"),
}
_TOPIC_COUNT = {"low": 0, "medium": 2, "high": 3, "critical": 4}
_THINKING = {"low": None, "medium": "think", "high": "think hard", "critical": "think harder"}


@dataclass(frozen=True, slots=True)
class Analysis:
    workflow_type: str  # one of WORKFLOW_TYPES
    score: int
    complexity: str  # low, medium, high, critical (bands of the final score)
    thinking_mode: str | None  # None, "think", "think hard", "think harder"
    research_topics: tuple[str, ...]  # 0-4 names of [a-z0-9_]
    estimated_files: int
    keyword_points: int  # the score's keyword terms, for explaining it

    def to_dict(self) -> dict:
        return {"workflow_type": self.workflow_type, "score": self.score,
                "complexity": self.complexity, "thinking_mode": self.thinking_mode,
                "research_topics": list(self.research_topics),
                "estimated_files": self.estimated_files,
                "keyword_points": self.keyword_points}


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()


def _parts(folded: str) -> list[list[str]]:
    """The description's parts, each as its words; parts without a word are dropped."""
    parts = (_WORD.findall(part) for part in _PART_SPLIT.split(folded))
    return [words for words in parts if words]


def workflow_type(description: str) -> str:
    """The kind named by the first telling word: "Fix the crash in login" is debug,
    "Investigate why login fails" investigation, "Add X" (or no such word) a feature."""
    found = _TYPE_WORD.search(_fold(description))
    return found.lastgroup if found else "feature"


def estimate_files(description: str) -> int:
    """How many files the work touches, guessed from the text: the files or paths it names,
    or two per part of it (code and its test; parts split at punctuation and at "and",
    "with", "plus", ..., file names aside), whichever is more; plus 10 when it speaks of
    the whole codebase ("all", "every", "across", "codebase", ...)."""
    folded = _fold(description)
    named = len(set(_FILE_MENTION.findall(folded)))
    files = max(named, 2 * len(_parts(_FILE_MENTION.sub(" ", folded))))
    return files + (10 if _WIDE.search(folded) else 0)


def complexity_band(score: int) -> str:
    if score <= 3:
        return "low"
    if score <= 6:
        return "medium"
    return "high" if score <= 9 else "critical"


def thinking_mode(score: int) -> str | None:
    return _THINKING[complexity_band(score)]


def research_topics(description: str, count: int, kind: str | None = None) -> tuple[str, ...]:
    """``count`` topic names: first the subjects of the description's parts (up to three
    words each, with the verbs, small words and file names left out), in order and without
    repeats; then the generic topics of its workflow type.

    >>> research_topics("Add user authentication with OAuth2 and session management", 3)
    ('user_authentication', 'oauth2', 'session_management')
    """
    kind = kind or workflow_type(description)
    topics: list[str] = []
    for words in _parts(_FILE_MENTION.sub(" ", _fold(description))):
        if len(topics) >= count:
            break
        subject = [word for word in words if word not in _STOP][:3]
        name = "_".join(subject)[:MAX_TOPIC].strip("_")
        if name and name not in topics:
            topics.append(name)
    for generic in _GENERIC_TOPICS[kind]:
        if len(topics) >= count:
            break
        if generic not in topics:
            topics.append(generic)
    return tuple(topics[:count])


def analyze(description: str) -> Analysis:
    """The analysis of a feature description (see the module's docstring for the rule)."""
    folded = _fold(description)
    kind = workflow_type(description)
    keyword_points = sum(weight * len(pattern.findall(folded)) for weight, pattern in _WEIGHTS)
    files = estimate_files(description)
    base = keyword_points + files // 5
    count = _TOPIC_COUNT[complexity_band(base)]
    if count == 0 and kind == "investigation":
        count = 1
    topics = research_topics(description, count, kind)
    score = base + max(len(topics) - 1, 0) * 2
    return Analysis(kind, score, complexity_band(score), thinking_mode(score), topics, files,
                    keyword_points)
