"""The baseline: the smallest Flask app, served by gunicorn with the same
settings as the services, so the ratio shows what our stack costs.

/db adds one PostgreSQL round trip (SELECT 1 through a SQLAlchemy pool made
as the services make theirs, shared.db.make_engine) when BENCH_DATABASE_URL
is set: the floor for any endpoint that reads its database at all."""

import os

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask("minimal")
    engine = None
    if os.environ.get("BENCH_DATABASE_URL"):
        from shared.db import make_engine

        engine = make_engine(os.environ["BENCH_DATABASE_URL"])

    @app.get("/ping")
    def ping():
        return jsonify(ok=True)

    @app.post("/echo")
    def echo():
        return jsonify(request.get_json(silent=True) or {}), 201

    @app.get("/db")
    def db():
        import sqlalchemy as sa

        with engine.connect() as connection:
            return jsonify(ok=connection.execute(sa.text("SELECT 1")).scalar() == 1)

    return app
