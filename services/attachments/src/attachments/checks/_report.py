"""Collects findings during one check and turns them into a verdict."""

from __future__ import annotations

from time import perf_counter

from attachments.checks.codes import CODES, Code, Severity
from attachments.checks.models import (
    DamagedFileHandling,
    Facts,
    Finding,
    Kind,
    ParamValue,
    Verdict,
    make_finding,
)


class Report:
    """Findings of one check in progress."""

    def __init__(self, kind: Kind, damaged: DamagedFileHandling = DamagedFileHandling.STRICT) -> None:
        self.kind: Kind = kind
        self.damaged = damaged
        self.findings: list[Finding] = []
        self._started = perf_counter()

    def add(self, code: Code, **params: ParamValue) -> None:
        """Record ``code`` once; repairable damage becomes a warning under the lenient policy."""
        if any(f.code == code for f in self.findings):
            return
        severity = CODES[code].severity
        if CODES[code].policy_governed and self.damaged is DamagedFileHandling.LENIENT:
            severity = Severity.WARNING
        self.findings.append(make_finding(code, severity, **params))

    def has(self, code: Code) -> bool:
        """Whether ``code`` was recorded."""
        return any(f.code == code for f in self.findings)

    @property
    def rejected(self) -> bool:
        """Whether any finding is an error."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def verdict(self, facts: Facts | None) -> Verdict:
        """The verdict for the findings so far."""
        reasons = [f for f in self.findings if f.severity is Severity.ERROR]
        warnings = [f for f in self.findings if f.severity is not Severity.ERROR]
        return Verdict(
            kind=self.kind,
            accepted=not reasons,
            reasons=reasons,
            warnings=warnings,
            facts=facts,
            elapsed_ms=round((perf_counter() - self._started) * 1000, 1),
        )
