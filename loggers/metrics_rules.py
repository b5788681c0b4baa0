"""Per-metric display rules (precision, "look here" bounds, labels) loaded from config/metrics.yaml."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[1] / "config" / "metrics.yaml"
GLOB_CHARS = "*?["
MISSING_VALUE = "—"


@dataclass(frozen=True)
class MetricRule:
    """How one metric is displayed and which values deserve attention."""

    precision: int = 3  # decimals shown; 0 means an integer counter
    min: float | None = None  # values below this are highlighted
    max: float | None = None  # values above this are highlighted
    label: str | None = None  # optional short display name (console tables)


class MetricsRules:
    """Resolve a metric name to its rule: exact name, then first matching glob in file order, then default."""

    def __init__(
        self,
        rules: Mapping[str, MetricRule] | None = None,
        default: MetricRule | None = None,
    ) -> None:
        rules = dict(rules or {})
        self.exact = {name: rule for name, rule in rules.items() if not any(c in name for c in GLOB_CHARS)}
        self.globs = [(pattern, rule) for pattern, rule in rules.items() if pattern not in self.exact]
        self.default = default or MetricRule()
        self._cache: dict[str, MetricRule] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> MetricsRules:
        """Read rules from YAML; the bundled config/metrics.yaml when no path is given."""
        if path is None and not DEFAULT_RULES_PATH.exists():
            return cls()
        path = Path(path or DEFAULT_RULES_PATH)
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise TypeError(f"{path}: expected a mapping of metric name or glob -> rule fields")
        default = parse_rule(path, "default", raw.pop("default", None) or {})
        return cls(
            {str(name): parse_rule(path, str(name), spec or {}) for name, spec in raw.items()},
            default,
        )

    def rule_for(self, name: str) -> MetricRule:
        """The rule that applies to `name` (cached, since it is looked up every epoch)."""
        rule = self._cache.get(name)
        if rule is None:
            rule = self.exact.get(name) or next((r for p, r in self.globs if fnmatchcase(name, p)), self.default)
            self._cache[name] = rule
        return rule

    def format(self, name: str, value: float) -> str:
        """Format a value with its rule's precision; counters get thousands separators and no decimals."""
        return format_value(value, self.rule_for(name).precision)

    def out_of_bounds(self, name: str, value: float) -> bool:
        """True when a finite value falls outside the rule's [min, max] bounds."""
        rule = self.rule_for(name)
        if not math.isfinite(value):
            return False
        return (rule.min is not None and value < rule.min) or (rule.max is not None and value > rule.max)


def format_value(value: float, precision: int) -> str:
    """Precision-aware number formatting; NaN becomes an em dash, tiny numbers use scientific notation."""
    value = float(value)
    if math.isnan(value):
        return MISSING_VALUE
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if precision <= 0 or (value.is_integer() and abs(value) >= 1000):
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 10.0**-precision:
        return f"{value:.2e}"
    return f"{value:,.{precision}f}"


def parse_rule(path: Path, name: str, spec: object) -> MetricRule:
    """Build a MetricRule from one YAML entry, naming the file and key on a mistake."""
    allowed = {f.name for f in fields(MetricRule)}
    if not isinstance(spec, dict) or set(spec) - allowed:
        raise ValueError(f"{path}: rule {name!r} must be a mapping with keys among {sorted(allowed)}, got {spec!r}")
    return MetricRule(**spec)
