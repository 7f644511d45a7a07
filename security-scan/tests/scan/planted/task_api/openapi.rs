//! The planted task API's OpenAPI 3.1 document, as the scanner discovers the operations
//! from it: every path and method, the bearer scheme with the scope each operation needs
//! (§4.8.30), and the task schemas with their read-only fields.

use actix_web::HttpResponse;
use serde_json::json;

pub async fn document() -> HttpResponse {
    let task_id =
        json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]);
    let bearer = |scope: &str| json!([{ "bearer": [scope] }]);
    let json_body = |schema: &str| {
        json!({ "content": { "application/json": {
            "schema": { "$ref": format!("#/components/schemas/{schema}") }
        } } })
    };
    let one_task = |description: &str| {
        let mut response = json_body("TaskEnvelope");
        response["description"] = json!(description);
        response
    };
    let text = json!({ "type": "string", "maxLength": 200 });
    let description = json!({ "type": ["string", "null"], "maxLength": 1000 });
    let status = json!({ "type": "string", "enum": ["pending", "in_progress", "completed"] });
    HttpResponse::Ok().json(json!({
        "openapi": "3.1.0",
        "info": { "title": "Planted task API", "version": "1" },
        "paths": {
            "/api/health": { "get": { "responses": { "200": { "description": "up" } } } },
            "/api/tasks": {
                "get": {
                    "security": bearer("tasks:read"),
                    "parameters": [
                        {
                            "name": "search", "in": "query",
                            "schema": { "type": "string", "maxLength": 100 }
                        },
                        {
                            "name": "page", "in": "query",
                            "schema": { "type": "integer", "minimum": 1 }
                        },
                        {
                            "name": "limit", "in": "query",
                            "schema": { "type": "integer", "minimum": 1, "maximum": 100 }
                        }
                    ],
                    "responses": { "200": { "description": "the caller's tasks" } }
                },
                "post": {
                    "security": bearer("tasks:write"),
                    "requestBody": json_body("NewTask"),
                    "responses": { "201": one_task("created") }
                }
            },
            "/api/tasks/{id}": {
                "get": {
                    "security": bearer("tasks:read"),
                    "parameters": task_id,
                    "responses": { "200": one_task("the task") }
                },
                "patch": {
                    "security": bearer("tasks:write"),
                    "parameters": task_id,
                    "requestBody": json_body("TaskUpdate"),
                    "responses": { "200": one_task("updated") }
                },
                "delete": {
                    "security": bearer("tasks:write"),
                    "parameters": task_id,
                    "responses": { "204": { "description": "deleted" } }
                }
            }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "TaskEnvelope": {
                    "type": "object",
                    "properties": { "task": { "$ref": "#/components/schemas/Task" } }
                },
                "Task": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer", "readOnly": true },
                        "title": text,
                        "description": description,
                        "status": status,
                        "priority": { "type": "integer", "minimum": 1, "maximum": 5 },
                        "created_at": { "type": "integer", "readOnly": true },
                        "updated_at": { "type": "integer", "readOnly": true }
                    }
                },
                "NewTask": {
                    "type": "object",
                    "required": ["title"],
                    "properties": {
                        "title": text,
                        "description": description
                    }
                },
                "TaskUpdate": {
                    "type": "object",
                    "properties": {
                        "title": text,
                        "description": description,
                        "status": status
                    }
                }
            }
        }
    }))
}
