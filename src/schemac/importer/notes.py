"""What the YAML cannot say about an imported object: said loudly, never dropped in silence."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Loss:
    """One attribute of one object the YAML format has no place for."""

    kind: str
    name: str
    attribute: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.attribute} not imported ({self.detail})"


@dataclass
class Notes:
    """Everything import could not carry over, kept in the order it was found."""

    losses: list[Loss] = field(default_factory=list)

    def lost(self, kind: str, name: str, attribute: str, detail: str) -> None:
        self.losses.append(Loss(kind, name, attribute, detail))

    def sorted(self) -> list[Loss]:
        return sorted(set(self.losses))
