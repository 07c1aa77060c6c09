"""What tests of more than one tier share: proxies that lose answers, PgBouncer, the contract's
Schemathesis set-up."""
