"""Mechanics every service uses alike: configuration, logging, database,
events, messaging (outbox, consumer, retry, dead letters), auth, errors, web."""
