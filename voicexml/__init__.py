"""A VoiceXML 2.0 + 2.1 interpreter library: documents, the form interpretation algorithm, ECMAScript scopes,
events, SSML rendering and a text runner (`python -m voicexml run --jsonl DOCUMENT`).

SRGS grammars live in `voicexml.grammar`. The library imports only the standard library, lxml and quickjs.
"""
from .document import Document, DocumentCache, parse_document
from .events import VXMLEvent
from .fetch import Fetcher, FetchSettings
from .interpreter import Outcome, Session, SessionSettings
from .platform import (
    FetchAudio,
    Hypothesis,
    InputRequest,
    InputResult,
    NullPlatform,
    Platform,
    Prompt,
    RecordRequest,
    RecordResult,
    TransferRequest,
    TransferResult,
)
from .scripting import ScriptSettings

__all__ = [
    "Document",
    "DocumentCache",
    "FetchAudio",
    "FetchSettings",
    "Fetcher",
    "Hypothesis",
    "InputRequest",
    "InputResult",
    "NullPlatform",
    "Outcome",
    "Platform",
    "Prompt",
    "RecordRequest",
    "RecordResult",
    "ScriptSettings",
    "Session",
    "SessionSettings",
    "TransferRequest",
    "TransferResult",
    "VXMLEvent",
    "parse_document",
]
