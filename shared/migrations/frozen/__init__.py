"""Migration steps that several services run, frozen once applied (see test_migrations_frozen)."""
