"""Importing this module loads and analyses the KB once (text, static atoms, structure, and the
stratified program a batch grounds).

Batch workers are forked from a server process that imports it first, so every worker, and
every replacement of a recycled worker, starts with the KB already parsed and analysed.
"""
from __future__ import annotations

from spinekb.bridge.program import stratified_program
from spinekb.kb.structure import kb_structure
from spinekb.kb.static import static_kb
from spinekb.kb.vocabulary import vocabulary
from spinekb.kb import kb_text

kb_text()
static_kb()
kb_structure()
vocabulary()
stratified_program()
