"""Inline specs of APIs other than Synthetic Classic, to prove the simulator knows none by name.

``OAUTH_SPEC`` is an OAuth 2.0 password-grant style API (form login, JSON token with ``expires_in``,
``Authorization: Bearer``, OpenAPI 3.1) that documents every status the simulator answers;
``NOTES_SPEC`` a JSON-login API (token nested in a JSON body, bare token in ``X-Session``,
OpenAPI 3.0) with a public operation.
"""

from __future__ import annotations

from typing import Any

OAUTH_ERROR: dict[str, Any] = {
    "description": "OAuth error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "additionalProperties": False,
                "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
            }
        }
    },
}
ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "minLength": 1},
        "price": {"type": "number"},
    },
}


def _json(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema, **extra}}}


ERROR = _json({"type": "object", "properties": {"message": {"type": "string"}}})
API_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR, "503": ERROR}


OAUTH_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Inventory", "version": "1.0.0"},
    "security": [{"oauth": []}],
    "paths": {
        "/oauth/token": {
            "post": {
                "operationId": "issueToken",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["grant_type", "username", "password"],
                                "properties": {
                                    "grant_type": {"type": "string"},
                                    "username": {"type": "string"},
                                    "password": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["access_token", "token_type", "expires_in"],
                            "properties": {
                                "access_token": {"type": "string"},
                                "token_type": {"type": "string"},
                                "expires_in": {"type": "integer"},
                            },
                        },
                        example={"access_token": "example", "token_type": "bearer", "expires_in": 3600},
                    ),
                    "400": OAUTH_ERROR,
                    "401": OAUTH_ERROR,
                },
            }
        },
        "/items": {
            "get": {
                "operationId": "listItems",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "X-Page", "in": "header", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Item"}}),
                    **API_ERRORS,
                },
            }
        },
        "/items/{item-id}": {
            "parameters": [{"name": "item-id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "operationId": "getItem",
                "responses": {"200": _json({"$ref": "#/components/schemas/Item"}), **API_ERRORS},
            },
            "put": {
                "operationId": "updateItem",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                },
                "responses": {"200": _json({"$ref": "#/components/schemas/Item"}), **API_ERRORS},
            },
        },
    },
    "components": {
        "schemas": {"Item": ITEM},
        "securitySchemes": {
            "oauth": {
                "type": "oauth2",
                "flows": {"password": {"tokenUrl": "/oauth/token", "scopes": {}}},
                "x-token-lifecycle": {
                    "login": {
                        "operationId": "issueToken",
                        "username": "username",
                        "password": "password",
                        "constants": {"grant_type": "password"},
                    },
                    "token": {"from": "json", "pointer": "/access_token"},
                    "scheme": "Bearer",
                    "lifetime": "PT1H",
                    "expiresIn": "/expires_in",
                },
            }
        },
    },
}
OAUTH_FIXTURES = """\
accounts: {acme: {name: Acme}}
users:
  alice: {password: alice-secret, account: acme, permissions: [listItems, getItem]}
  bob: {password: bob-secret, account: acme}
responses:
  listItems: [{id: 1, name: Widget, price: 2.5}, {id: 2, name: Gadget}]
"""
NOTES_SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Notes", "version": "2.0"},
    "paths": {
        "/session": {
            "post": {
                "operationId": "createSession",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["login", "secret"],
                                "properties": {"login": {"type": "string"}, "secret": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "session": {"type": "object", "properties": {"token": {"type": "string"}}},
                                "user": {"type": "string", "nullable": True},
                            },
                        }
                    )
                },
            }
        },
        "/notes": {
            "get": {
                "operationId": "listNotes",
                "security": [{"session": []}],
                "responses": {"200": _json({"type": "array", "items": {"type": "string"}}, example=["first note"])},
            }
        },
        "/health": {
            "get": {
                "operationId": "health",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"text/plain": {"schema": {"type": "string"}, "example": "ok"}},
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "session": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Session",
                "x-token-lifecycle": {
                    "login": {"operationId": "createSession", "username": "login", "password": "secret"},
                    "token": {"from": "json", "pointer": "/session/token"},
                    "scheme": None,
                    "lifetime": "PT10M",
                },
            }
        }
    },
}
