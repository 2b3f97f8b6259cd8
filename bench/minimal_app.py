"""The baseline: the smallest Flask app, served by gunicorn with the same
settings as the services, so the ratio shows what our stack costs."""

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask("minimal")

    @app.get("/ping")
    def ping():
        return jsonify(ok=True)

    @app.post("/echo")
    def echo():
        return jsonify(request.get_json(silent=True) or {}), 201

    return app
