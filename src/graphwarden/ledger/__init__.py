"""The disclosure ledger: every (app, subject, field) that leaves, recorded first, verifiable."""
