"""Refusing config.json values the exporter does not implement, by name."""

from typing import Any, Callable, Dict, Iterable

from checkpoint_weights import CheckpointError

Rule = Callable[[Any], bool]


def one_of(*allowed) -> Rule:
    return lambda value: value in allowed


def positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def int_or_list(value) -> bool:
    return positive_int(value) or (isinstance(value, list) and value and all(map(positive_int, value)))


def anything(value) -> bool:
    return True


def check_config(config: Dict[str, Any], path: str, rules: Dict[str, Rule],
                 ignored: Iterable[str] = ()) -> None:
    """Every key must have a rule that accepts its value, or be ignored (training-only or
    informational keys), or be null. An unknown key with a value is refused too: a newer library
    version may have added an architecture switch, and guessing it is off would be silent harm."""
    ignored = set(ignored)
    for key, value in config.items():
        if key.startswith("_") or key in ignored:
            continue
        if key in rules:
            if not rules[key](value):
                raise CheckpointError(f"{path}: unsupported {key} = {value!r}")
        elif value is not None:
            raise CheckpointError(f"{path}: unsupported {key} = {value!r} (key not known to the exporter)")
