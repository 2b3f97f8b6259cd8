"""Events over RabbitMQ: outbox and relay (publishing), consumer with inbox,
retry and dead letters (receiving).  The only module that talks to the broker."""
