"""`parse_grammar`: either SRGS form, inline or fetched, with the grammars it references."""
from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag

from .errors import GrammarError
from .grammar import Fetch, Grammar, GrammarSettings, check_library
from .nodes import RuleRef
from .xml_form import grammar_from_element, local_name, parse_xml_bytes

MAX_IMPORTS = 64  # distinct external grammars one grammar may pull in (a chain of fetches must end)


def parse_grammar(source: Any, *, base_uri: str | None = None, fetch: Fetch | None = None,
                  media_type: str | None = None, root: str | None = None,
                  settings: GrammarSettings | None = None) -> Grammar:
    """Parse an SRGS grammar (XML or ABNF form) and everything it references; raises GrammarError.

    `source` is an lxml `<grammar>` element (inline in VoiceXML), or the grammar's text or bytes.
    `base_uri` resolves relative rulerefs, which `fetch(absolute_uri) -> bytes` loads. `media_type`
    (``application/srgs+xml`` or ``application/srgs``) overrides sniffing. `root` overrides the root
    rule (a `src="g.grxml#rule"` reference).
    """
    key = urldefrag(base_uri)[0] if base_uri else ""
    try:
        grammar = _parse_one(source, key=key, base_uri=base_uri, media_type=media_type, settings=settings)
        if root is not None:
            if root not in grammar.rules:
                raise GrammarError(f"rule {root!r} is not defined in the grammar", code="undefined_rule")
            grammar.root = root
        _load_references(grammar, fetch, settings)
        check_library(grammar)
    except RecursionError as e:  # a pathological nesting the explicit limits did not catch
        raise GrammarError("the grammar is nested too deeply to process", code="invalid") from e
    return grammar


def _parse_one(source: Any, *, key: str, base_uri: str | None, media_type: str | None,
               settings: GrammarSettings | None) -> Grammar:
    from .abnf import parse_abnf  # late: abnf imports the model this module also builds

    if hasattr(source, "tag") and hasattr(source, "iterchildren"):  # an lxml element
        if local_name(source) == "grammar" and len(source) == 0 and (source.text or "").strip():
            text = source.text.strip()  # an inline ABNF grammar in a VoiceXML <grammar>
            if text.startswith("#ABNF") or "srgs+xml" not in (source.get("type") or "application/srgs"):
                return parse_abnf(text, key=key, base_uri=base_uri, settings=settings,
                                  mode=source.get("mode"), root=source.get("root"))
        return grammar_from_element(source, key=key, base_uri=base_uri, settings=settings)
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8-sig") if not source.lstrip().startswith(b"<") else None
        except UnicodeDecodeError as e:
            raise GrammarError(f"the grammar is not UTF-8 text: {e}", code="syntax") from e
        raw: bytes | str = source
    elif isinstance(source, str):
        text, raw = source.lstrip("\ufeff"), source
    else:
        raise GrammarError(f"cannot parse a grammar from {type(source).__name__}", code="invalid")
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind.endswith("xml") or (not kind and (text is None or text.lstrip().startswith("<"))):
        return grammar_from_element(parse_xml_bytes(raw), key=key, base_uri=base_uri, settings=settings)
    if kind in ("", "application/srgs", "text/plain") and text is not None and text.lstrip().startswith("#ABNF"):
        return parse_abnf(text, key=key, base_uri=base_uri, settings=settings)
    if kind == "application/srgs" and text is not None:
        return parse_abnf(text, key=key, base_uri=base_uri, settings=settings)
    raise GrammarError("not a grammar: expected SRGS XML (<grammar ...>) or ABNF (#ABNF 1.0 ...)", code="syntax")


def _external_keys(grammar: Grammar) -> list[str]:
    keys = []
    for node in grammar.iter_own_nodes():
        if isinstance(node, RuleRef) and node.grammar != grammar.key and node.grammar not in keys:
            keys.append(node.grammar)
    return keys


def _load_references(grammar: Grammar, fetch: Fetch | None, settings: GrammarSettings | None) -> None:
    from .builtins import builtin_grammar

    library = grammar.library
    pending = _external_keys(grammar)
    while pending:
        uri = pending.pop(0)
        if uri in library:
            continue
        if len(library) > MAX_IMPORTS:
            raise GrammarError(f"more than {MAX_IMPORTS} external grammars referenced", code="fetch")
        sub: Grammar
        if uri.startswith("builtin:"):
            sub = builtin_grammar(uri, grammar.mode)
            sub.key = uri
        else:
            if fetch is None:
                raise GrammarError(f"cannot fetch {uri}: no fetch function was given", code="fetch")
            try:
                data = fetch(uri)
            except GrammarError:
                raise
            except Exception as e:  # the caller's fetch may fail in any way; say which URI it was
                raise GrammarError(f"cannot fetch grammar {uri}: {e}", code="fetch") from e
            sub = _parse_one(data, key=uri, base_uri=uri, media_type=None, settings=settings)
        if sub.mode != grammar.mode:
            raise GrammarError(f"grammar {uri} is a {sub.mode} grammar, referenced from a {grammar.mode} grammar",
                               code="invalid")
        sub.library = library
        library[uri] = sub
        pending += [k for k in _external_keys(sub) if k not in library]
