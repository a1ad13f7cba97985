"""HTTP entrypoints of the notifications service: the operators' delivery log and re-send."""
