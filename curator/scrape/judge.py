"""Is this block of a page a prompt? The stated rules, measured on the local test web.

A prompt is an instruction *to the model* about a text. Listicles surround prompts with
instructions *to the reader* ("Paste your text into ChatGPT", "Tell ChatGPT which style guide your
team follows", "Follow me for more"), with statements ("Saves hours of editing") and with sample
outputs ("Thank you for taking the time…"). The rules, in order:

1. length 3–150 words, no boilerplate words, not a link list;
2. not addressed to the reader: it does not talk *about* the tool (ChatGPT, "the AI", "the
   output", "these prompts") and does not start with a reader's verb (copy, paste, click, follow…);
3. instructional: an imperative lead (a verb from the list, or an unknown word used as a verb:
   capitalised, no -s/-ing/-ed ending, followed by an object word such as "this", "the", "my",
   "up"), a request form ("Can you…", "Act as…"), a placeholder, or a reference to a text
   ("this paragraph", "the following") that is not a statement ("Makes the text clearer");
4. a plain paragraph (no list, quote, code, table, label or quotes around it) needs more: an
   imperative lead *and* a reference to a text, because prose is full of imperatives.

Where a block sits is decided by the caller (extract.py): sections headed "How to use these
prompts", "Benefits", "FAQ"… hold no prompts, and the block after an "Output:" label is a sample.
A logistic regression over these features was measured against the rules (docs/sources.md).
"""

from __future__ import annotations

import re

from bs4 import Tag

MIN_WORDS = 3
MAX_WORDS = 150
MAX_CHARS = 1500

VERBS = frozenset("""
rewrite rephrase paraphrase reword rework redo revise edit proofread correct fix polish refine improve
enhance make write convert transform turn translate adapt adjust change modify alter tailor tweak
summarize summarise condense shorten simplify expand elaberate elaborate lengthen extend clarify
restructure reorganize reorganise organize organise format structure add remove delete replace cut
trim insert use apply keep include incorporate emphasize emphasise highlight create generate compose
draft craft produce develop give provide list outline explain describe analyze analyse evaluate
review check critique assess compare identify find suggest recommend offer brainstorm come
act pretend imagine play assume take help tell show let please respond reply answer continue
boost strengthen soften tone humanize humanise personalize personalise optimize optimise spice
infuse inject localize localise standardize standardise streamline tighten punch jazz dumb
break split merge combine reformat bulletize render present frame recast retell
narrate draw design prepare address send greet thank follow remind decline
apologize apologise request ask invite announce introduce persuade convince argue debate
reduce sharpen loosen reframe reorder vary distill distil tidy modernize modernise recap
""".split())
REQUEST_STARTS = re.compile(
    r"^(?:please\s+)?(?:can|could|would|will)\s+you\b|^i\s+(?:want|need|would like)\s+you\b|"
    r"^you\s+are\b|^as\s+an?\b|^act\s+as\b|^i'?m\s+(?:writing|working)\b|^let'?s\b|^now\b|"
    r"^i\s+need\b|^help\s+me\b",
    re.IGNORECASE)
TEXT_REFERENCE = re.compile(
    r"\b(?:this|these|the|my|following|given|above|below|provided|attached|original)\s+(?:\w+[\s-]+)?"
    r"(?:text|paragraphs?|passage|sentences?|article|essay|e-?mails?|message|content|copy|"
    r"draft|story|post|letter|document|section|excerpt|piece|blurb|description|speech|report|summary|"
    r"statement|code|function|script|snippet|query|bio|caption|tweet|headline|intro|introduction|notes|"
    r"update|announcement|reply|note|abstract|clause|paragraph|newsletter|messages?|pitch|request|"
    r"outline|chapter|poem|memo|proposal|faq)\b"
    r"|\bthe\s+following\b|\b(?:below|above):",
    re.IGNORECASE)
BOILERPLATE = re.compile(
    r"subscribe|newsletter sign|cookie|privacy policy|terms of (?:service|use)|all rights reserved|©|"
    r"\bsign (?:up|in)\b|\blog ?in\b|read more|click here|share (?:this|on)|follow us|related posts?|"
    r"advertisement|sponsored|affiliate|posted by|written by|about the author|leave a (?:comment|reply)|"
    r"\bcomments?\s*\(\d+\)|table of contents|skip to content|back to top",
    re.IGNORECASE)
# talking *about* the tool is talking to the reader: "Tell ChatGPT…", "Ask the AI to…", "these prompts"
TOOL_TALK = re.compile(
    r"\b(?:chat\s?gpt|gpt-?\d\w*|claude|gemini|bard|copilot|chatbot|llm)\b|"
    r"\b(?:the|an?|your)\s+(?:ai|a\.i\.|model|bot|assistant|tool)\b(?!\s+(?:industry|ethics|policy))|"
    r"\b(?:these|this|the|a|each|every|one of the|my)\s+prompts?\b",
    re.IGNORECASE)
# "Check the output before you send it" is a tip; "Rewrite this email and format the output as a list"
# is a prompt: the model's output counts as tool talk only when no text is named
OUTPUT_TALK = re.compile(r"\b(?:the|its|this)\s+(?:output|outputs|result|results|response)\b", re.IGNORECASE)
READER_VERBS = frozenset("""
copy paste click open download subscribe follow share comment drop save bookmark repost visit sign log
join register buy grab scroll bookmark tag dm message contact enroll download install run
""".split())
STATEMENT_STARTS = frozenset("""
it its this these that those the a an there they we he she his her their our you your i my is are was were
has have had saves makes helps improves gives allows lets takes keeps works creates provides offers
""".split())
# second words that show a capitalised unknown first word is used as a verb ("Sharpen this …")
_OBJECT_WORDS = frozenset("""
this that these those the my our your their his her its a each every all any it them me us up down out off
""".split())
# words that open a sentence without being verbs: "Once the project…", "From the start…"
_NOT_VERBS = frozenset("""
once from when while after before since until if unless although though because as at by for in on with
without within into onto upon about above below under over between among through during despite except
like near per than via toward towards across along around behind beyond inside outside throughout here
there now then also just only even still yet so thus hence however therefore meanwhile moreover indeed
instead rather quite very too both some many much more most few less least other another such what which
who whom whose where why how not no nor or and but yes all each every any one two three first last next
today tomorrow yesterday always never often sometimes usually
""".split())
# an English sentence has some of these beyond its first two words (a German "Lebe in …" has none)
_ENGLISH = frozenset("the this to and of for with your my it so that a is are be into from".split())
_PLACEHOLDER = re.compile(r"\{[a-z][a-z0-9_]*\}")
# "this changelog", "my notes": something at hand, for a verb-led paragraph (not "this week", "this guide")
_LOOSE_REFERENCE = re.compile(
    r"\b(?:this|these|my|our)\s+(?!(?:week|month|year|time|way|site|page|guide|blog|tip|trick|method|approach|"
    r"technique|step|one|is|was|will|can|list|morning|weekend|season|course|tool|app|video)\b)[a-z][a-z-]{2,}",
    re.IGNORECASE)
# "Use for reports…", "Great when…": a note on when to use the prompt above, not a prompt
_USAGE_NOTE = re.compile(r"^(?:use(?:\s+it)?|good|great|best|ideal|perfect|works?(?:\s+well)?|handy|useful)\s+"
                         r"(?:for|when|with|if|in|on)\b", re.IGNORECASE)
_EMBED = re.compile(r"pic\.twitter\.com|\(@\w+\)|^@\w+")
_SHELL = re.compile(r"(?:^|\s)[$>#]\s|\|--|[{;]\s*$|\b(?:def|import|return|var|const|function|class|sudo|pip|npm)\b|::|=>|\(\)|==")


def first_word(text: str) -> str:
    words = text.split()
    return re.sub(r"[^a-z'\-]", "", words[0].lower()) if words else ""


def imperative_lead(text: str) -> bool:
    """The text opens with a verb in the imperative (listed, or an unknown word used as one)."""
    words = text.split()
    if not words:
        return False
    first = first_word(text)
    if first in VERBS:
        return True
    if len(words) < 3 or not words[0][:1].isupper() or words[0].isupper() or first in STATEMENT_STARTS \
            or first in READER_VERBS or first in _NOT_VERBS:
        return False
    if not re.fullmatch(r"[A-Z][a-z'-]+", words[0]) or len(first) < 3 or \
            re.search(r"(?:ing|ed|ly|tion|ness|ment|ss|[^s]s)$", first):
        return False
    second = re.sub(r"[^a-z']", "", words[1])  # lower-case as written: "Journalist The Guardian" is a name
    rest = {re.sub(r"[^a-z']", "", w.lower()) for w in words[2:]}
    return second in _OBJECT_WORDS and bool(rest & _ENGLISH)


def looks_instructional(text: str) -> bool:
    first = first_word(text)
    if imperative_lead(text) or REQUEST_STARTS.match(text):
        return True
    if first in STATEMENT_STARTS:
        return bool(_PLACEHOLDER.search(text)) and first in ("you", "your", "as")
    if _PLACEHOLDER.search(text):
        return True
    if first in _NOT_VERBS or (len(text) > 8 and text.isupper()):
        return False
    if TEXT_REFERENCE.search(text) and not (first.endswith("s") and not first.endswith("ss")):
        return True
    return False


def names_a_text(text: str) -> bool:
    """The prompt names the text it acts on ("this paragraph", "the following") or has a slot."""
    return bool(TEXT_REFERENCE.search(text) or _PLACEHOLDER.search(text))


def to_reader(text: str) -> str | None:
    """Why ``text`` is addressed to the reader rather than to the model, or None."""
    if first_word(text) in READER_VERBS:
        return "an instruction to the reader"
    if TOOL_TALK.search(text) or (OUTPUT_TALK.search(text) and not names_a_text(text)):
        return "talks about the tool (a tip for the reader)"
    return None


def rejection(text: str, el: Tag | None = None, *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS,
              plain: bool = False, code: bool = False) -> str | None:
    """Why ``text`` is not a prompt, or None when it is one. ``plain``: a bare prose paragraph;
    ``code``: the content of a code block (a prompt there reads as a sentence, not as a command)."""
    words = text.split()
    if len(words) < min_words:
        return "too short"
    if len(words) > max_words or len(text) > MAX_CHARS:
        return "too long"
    if BOILERPLATE.search(text):
        return "boilerplate"
    if el is not None:
        link_text = sum(len(a.get_text(strip=True)) for a in el.find_all("a"))
        if link_text and link_text >= 0.6 * max(len(el.get_text(strip=True)), 1):
            return "link list (navigation)"
    if re.fullmatch(r"[\W\d_]+", text) or text.count("http") > 1:
        return "not text"
    if _EMBED.search(text):
        return "an embedded post"
    if code and (_SHELL.search(text) or not text[:1].isupper()):
        return "code, not a prompt"
    why = to_reader(text)
    if why:
        return why
    if _USAGE_NOTE.match(text):
        return "a note on when to use a prompt"
    if plain:
        if sum(text.count(q) for q in '"“”') > 2:
            return "dialogue (quoted speech in prose)"
        strict = TEXT_REFERENCE.search(text) or _PLACEHOLDER.search(text)
        # an unknown verb in prose needs a text it acts on by name; a listed verb may act on "this X"
        if imperative_lead(text) and (strict or (first_word(text) in VERBS and _LOOSE_REFERENCE.search(text))):
            return None
        return "prose (a plain paragraph needs a verb lead and a text it acts on)"
    if looks_instructional(text):
        return None
    return "not an instruction"
