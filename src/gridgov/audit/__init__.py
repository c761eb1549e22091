"""The tamper-evident audit trail (全留痕): an append-only, hash-chained event table."""
