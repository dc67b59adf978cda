"""Executable content: the statements inside `<block>`, `<filled>`, catch handlers and `<if>`."""
from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import TYPE_CHECKING

from lxml import etree

from . import ssml
from .events import (
    HANGUP,
    ExitSession,
    GotoDialog,
    GotoItem,
    ReturnFromSubdialog,
    VXMLEvent,
    badfetch,
    semantic,
)
from .platform import Prompt
from .scripting import check_name

if TYPE_CHECKING:
    from .fia import FormInterpreter


class Executor:
    """Runs executable content for one form interpreter, in the scope level it is given."""

    def __init__(self, fia: FormInterpreter) -> None:
        self.fia = fia
        self.session = fia.session
        self.js = fia.session.js
        self._handlers: dict[str, Callable[[etree._Element, int], None]] = {
            "var": self._var, "assign": self._assign, "clear": self._clear, "if": self._if,
            "goto": self._goto, "submit": self._submit, "return": self._return, "exit": self._exit,
            "disconnect": self._disconnect, "log": self._log, "script": self._script, "throw": self._throw,
            "reprompt": self._reprompt, "prompt": self._prompt, "audio": self._bare_prompt,
            "value": self._bare_prompt, "enumerate": self._bare_prompt, "data": self._data,
            "foreach": self._foreach, "mark": self._bare_prompt,
        }

    # -- running ----------------------------------------------------------------------------------------
    def run(self, container: etree._Element, level: int) -> None:
        """Execute the children of `container` (bare text is an implicit prompt) in the scope at `level`."""
        chosen = self.fia.select_prompts(container)  # prompts with count: only those the counter selects
        if container.text and container.text.strip():
            self.queue_text(container.text)
        for child in container:
            if child.tag == "prompt" and chosen is not None and child not in chosen:
                if child.tail and child.tail.strip():
                    self.queue_text(child.tail)
                continue
            self._one(child, level)

    def queue_text(self, text: str) -> None:
        """Bare text in executable content or a form item: an implicit prompt."""
        self.session.platform.queue_prompt(Prompt(" ".join(text.split()), (), self.fia.bargein()))

    # -- variables --------------------------------------------------------------------------------------
    def _var(self, el: etree._Element, level: int) -> None:
        self.js.declare(level, el.get("name", ""), el.get("expr"))

    def _assign(self, el: etree._Element, level: int) -> None:
        self.js.assign(el.get("name", ""), el.get("expr", "undefined"))

    def _clear(self, el: etree._Element, level: int) -> None:
        names = (el.get("namelist") or "").split()
        if not names:
            self.fia.clear_items(None)
            return
        for n in names:
            self.js.clear(n)
        self.fia.clear_items(names)

    def _script(self, el: etree._Element, level: int) -> None:
        self.js.run_script(level, self.fia.script_source(el))

    # -- control ----------------------------------------------------------------------------------------
    def _if(self, el: etree._Element, level: int) -> None:
        active = self.js.cond(el.get("cond", "false"))
        done = active
        if active and el.text and el.text.strip():
            self.queue_text(el.text)
        for child in el:
            if child.tag in ("elseif", "else"):
                active = not done and (child.tag == "else" or self.js.cond(child.get("cond", "false")))
                done = done or active
                if active and child.tail and child.tail.strip():
                    self.queue_text(child.tail)
            elif active:
                self._one(child, level)

    def _one(self, child: etree._Element, level: int) -> None:
        tag = child.tag
        if isinstance(tag, str):
            handler = self._handlers.get(tag)
            if handler is not None:
                handler(child, level)
            elif not tag.startswith("{") and tag not in _NOT_EXECUTABLE:
                raise badfetch(f"<{tag}> is not executable content")
        if child.tail and child.tail.strip():
            self.queue_text(child.tail)

    def _goto(self, el: etree._Element, level: int) -> None:
        if el.get("nextitem") or el.get("expritem"):
            item = el.get("nextitem") or self.js.string(el.get("expritem", ""))
            raise GotoItem(item)
        raise self.fia.goto(el.get("next") or self.js.string(el.get("expr", "''")), el)

    def _submit(self, el: etree._Element, level: int) -> None:
        target = el.get("next") or self.js.string(el.get("expr", "''"))
        uri = self.fia.resolve_target(target, el)
        params = self.fia.namelist_values(el.get("namelist"), default_all=True)
        method = (el.get("method") or "get").lower()
        self.session.platform.submitted(uri, method, params)
        raise GotoDialog(uri, method=method, params=params, hints=self.fia.fetch_hints(el), audio=self.fia.fetch_audio(el),
                         enctype=el.get("enctype") or "application/x-www-form-urlencoded", submit=True)

    def _return(self, el: etree._Element, level: int) -> None:
        if not self.fia.context.is_subdialog:
            raise semantic("<return> outside a subdialog")
        event = el.get("event") or (self.js.string(el.get("eventexpr", "")) if el.get("eventexpr") else None)
        message = el.get("message") or (self.js.string(el.get("messageexpr", "")) if el.get("messageexpr") else "")
        raise ReturnFromSubdialog(self.fia.namelist_values(el.get("namelist")), event, message)

    def _exit(self, el: etree._Element, level: int) -> None:
        value = self.js.eval(el.get("expr", "")) if el.get("expr") else None
        raise ExitSession(value, self.fia.namelist_values(el.get("namelist")))

    def _disconnect(self, el: etree._Element, level: int) -> None:
        self.session.disconnect(self.fia.namelist_values(el.get("namelist")))
        raise VXMLEvent(HANGUP, "the interpreter disconnected")

    def _throw(self, el: etree._Element, level: int) -> None:
        name = el.get("event") or self.js.string(el.get("eventexpr", "''"))
        message = el.get("message") or (self.js.string(el.get("messageexpr", "")) if el.get("messageexpr") else "")
        if not name:
            raise semantic("<throw> with an empty event name")
        raise VXMLEvent(name, message)

    def _reprompt(self, el: etree._Element, level: int) -> None:
        self.fia.reprompt = True

    def _log(self, el: etree._Element, level: int) -> None:
        label = el.get("label")
        text = ssml.render(el, self.fia.prompts).text
        if el.get("expr"):
            text = (text + " " + self.js.string(el.get("expr", ""))).strip()
        self.session.platform.log(text, label)

    # -- prompts ----------------------------------------------------------------------------------------
    def _prompt(self, el: etree._Element, level: int) -> None:
        if el.get("cond") and not self.js.cond(el.get("cond", "true")):
            return
        self.fia.queue_prompt(el)

    def _bare_prompt(self, el: etree._Element, level: int) -> None:
        self.bare_prompt(el)

    def bare_prompt(self, el: etree._Element) -> None:
        """`<audio>`, `<value>` or `<enumerate>` outside a `<prompt>`: an implicit prompt around it."""
        holder = etree.Element("prompt")
        holder.append(_copy(el))
        self.fia.queue_prompt(holder, el)

    # -- 2.1 --------------------------------------------------------------------------------------------
    def _foreach(self, el: etree._Element, level: int) -> None:
        item = el.get("item", "")
        check_name(item)
        with self.js.foreach(el.get("array", "[]")) as refs:
            for ref in refs:
                self.js.set_expr(level, item, ref)
                self.run(el, level)

    def _data(self, el: etree._Element, level: int) -> None:
        self.fia.data(el, level)


_NOT_EXECUTABLE = frozenset(("catch", "error", "help", "noinput", "nomatch", "property", "grammar", "param",
                             "filled", "option", "elseif", "else", "meta", "metadata", "link"))


def _copy(el: etree._Element) -> etree._Element:
    c = deepcopy(el)
    c.tail = None
    return c
