"""A deterministic synthetic province: baseline enumeration, then years of vital events.

`Synth(SynthConfig(...), admin_units.load()).events()` yields the events in
publication order; `write_jsonl` writes them as JSON Lines for `popreg publish`.
Besides the true events it can publish, each at its own rate, deliberate mistakes
(mistakes.py), corrections (corrections.py) and late registrations that cross later
events (crossings.py); `Synth.mistakes` lists every one of them by kind.
"""

from producers.synth.config import Mistake, SynthConfig
from producers.synth.generator import Synth
from producers.synth.jsonl import write_jsonl

__all__ = ["Mistake", "Synth", "SynthConfig", "write_jsonl"]
