"""The stack's ceiling: a bare Flask JSON echo under the same gunicorn as Vigie."""

from __future__ import annotations

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/echo")
    def echo() -> object:
        return jsonify(request.get_json()), 201

    @app.get("/echo")
    def hello() -> object:
        return jsonify({"status": "ok"})

    @app.get("/healthz")
    def health() -> object:
        return jsonify({"status": "ok"})

    return app
