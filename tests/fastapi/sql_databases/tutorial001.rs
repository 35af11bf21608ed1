//! `tutorial001`: one model, `Hero`, for the table, the request body and the answers.

use portico::{App, Depends, HttpError, Json};
use rusqlite::{OptionalExtension, Row, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Database, Engine, Session, database_app, with_int_ids};
use crate::support::validation_response;
use crate::support::{any_json_response, assert_document, param, schemas_with_validation};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Hero {
    id: Option<i64>,
    name: String,
    age: Option<i64>,
    secret_name: String,
}

impl Hero {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Hero> {
        Ok(Hero {
            id: row.get("id")?,
            name: row.get("name")?,
            age: row.get("age")?,
            secret_name: row.get("secret_name")?,
        })
    }
}

/// `session.get(Hero, hero_id)`.
fn get_hero(session: &Session, hero_id: i64) -> Result<Option<Hero>, HttpError> {
    session.run(|conn| {
        conn.query_row(
            "SELECT id, name, age, secret_name FROM hero WHERE id = ?1",
            params![hero_id],
            Hero::from_row,
        )
        .optional()
    })
}

fn hero_not_found() -> HttpError {
    HttpError::not_found().detail("Hero not found")
}

#[portico::handler]
fn create_hero(
    Depends(session): Depends<Session>,
    Json(hero): Json<Hero>,
) -> Result<Json<Hero>, HttpError> {
    // session.add(hero); session.commit()
    let id = session.run(|conn| {
        conn.execute(
            "INSERT INTO hero (id, name, age, secret_name) VALUES (?1, ?2, ?3, ?4)",
            params![hero.id, hero.name, hero.age, hero.secret_name],
        )?;
        Ok(conn.last_insert_rowid())
    })?;
    // session.refresh(hero)
    get_hero(&session, id)?
        .map(Json)
        .ok_or_else(super::database_error)
}

#[portico::handler]
fn read_heroes(
    Depends(session): Depends<Session>,
    #[query(default = 0)] offset: i64,
    #[query(default = 100, le = 100)] limit: i64,
) -> Result<Json<Vec<Hero>>, HttpError> {
    let heroes = session.run(|conn| {
        conn.prepare("SELECT id, name, age, secret_name FROM hero LIMIT ?1 OFFSET ?2")?
            .query_map(params![limit, offset], Hero::from_row)?
            .collect()
    })?;
    Ok(Json(heroes))
}

#[portico::handler]
fn read_hero(
    #[path] hero_id: i64,
    Depends(session): Depends<Session>,
) -> Result<Json<Hero>, HttpError> {
    get_hero(&session, hero_id)?
        .map(Json)
        .ok_or_else(hero_not_found)
}

#[portico::handler]
fn delete_hero(
    #[path] hero_id: i64,
    Depends(session): Depends<Session>,
) -> Result<Json<Value>, HttpError> {
    if get_hero(&session, hero_id)?.is_none() {
        return Err(hero_not_found());
    }
    // session.delete(hero); session.commit()
    session.run(|conn| conn.execute("DELETE FROM hero WHERE id = ?1", params![hero_id]))?;
    Ok(Json(json!({"ok": true})))
}

fn app(engine: Engine) -> App {
    database_app(engine)
        .post("/heroes/", create_hero)
        .get("/heroes/", read_heroes)
        .get("/heroes/{hero_id}", read_hero)
        .delete("/heroes/{hero_id}", delete_hero)
}

#[portico::test]
async fn crud_app() {
    let db = Database::new(app).await;
    let client = &db.client;
    // No heroes before creating
    let response = client.get("heroes/").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!([]));

    // Create a hero
    let response = client
        .post("/heroes/")
        .json(&json!({"id": 999, "name": "Dead Pond", "age": 30, "secret_name": "Dive Wilson"}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"age": 30, "secret_name": "Dive Wilson", "id": 999, "name": "Dead Pond"})
    );

    // Read a hero
    let hero_id = response.json::<Value>()["id"].as_i64().unwrap();
    let response = client.get(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Dead Pond", "age": 30, "id": 999, "secret_name": "Dive Wilson"})
    );

    // Read all heroes
    // Create more heroes first
    let response = client
        .post("/heroes/")
        .json(&json!({"name": "Spider-Boy", "age": 18, "secret_name": "Pedro Parqueador"}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let response = client
        .post("/heroes/")
        .json(&json!({"name": "Rusty-Man", "secret_name": "Tommy Sharp"}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());

    let response = client.get("/heroes/").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        with_int_ids(&response),
        json!([
            {"name": "Dead Pond", "age": 30, "id": "IsInt()", "secret_name": "Dive Wilson"},
            {"name": "Spider-Boy", "age": 18, "id": "IsInt()", "secret_name": "Pedro Parqueador"},
            {"name": "Rusty-Man", "age": null, "id": "IsInt()", "secret_name": "Tommy Sharp"},
        ])
    );

    let response = client.get("/heroes/?offset=1&limit=1").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        with_int_ids(&response),
        json!([
            {"name": "Spider-Boy", "age": 18, "id": "IsInt()", "secret_name": "Pedro Parqueador"},
        ])
    );

    // Delete a hero
    let response = client.delete(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!({"ok": true}));

    let response = client.get(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 404, "{}", response.text());

    let response = client.delete(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 404, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": "Hero not found"})
    );
    client.shutdown().await;
}

#[portico::test]
async fn openapi_schema() {
    let db = Database::new(app).await;
    let hero = json!({"$ref": "#/components/schemas/Hero"});
    let answers = |schema: &Value| {
        json!({
            "200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": schema}},
            },
            "422": validation_response(),
        })
    };
    let hero_id = param("path", "hero_id", true, json!({"type": "integer"}));
    let expected = json!({
        "openapi": "3.1.0",
        "paths": {
            "/heroes/": {
                "post": {
                    "summary": "Create Hero",
                    "operationId": "create_hero_heroes__post",
                    "requestBody": {
                        "required": true,
                        "content": {"application/json": {"schema": hero}},
                    },
                    "responses": answers(&hero),
                },
                "get": {
                    "summary": "Read Heroes",
                    "operationId": "read_heroes_heroes__get",
                    "parameters": [
                        param("query", "offset", false, json!({"type": "integer", "default": 0})),
                        param(
                            "query",
                            "limit",
                            false,
                            json!({"type": "integer", "maximum": 100, "default": 100}),
                        ),
                    ],
                    "responses": answers(&json!({"type": "array", "items": hero})),
                },
            },
            "/heroes/{hero_id}": {
                "get": {
                    "summary": "Read Hero",
                    "operationId": "read_hero_heroes__hero_id__get",
                    "parameters": [hero_id],
                    "responses": answers(&hero),
                },
                "delete": {
                    "summary": "Delete Hero",
                    "operationId": "delete_hero_heroes__hero_id__delete",
                    "parameters": [hero_id],
                    "responses": {"200": any_json_response(), "422": validation_response()},
                },
            },
        },
        "components": {"schemas": schemas_with_validation(json!({
            "Hero": {
                "properties": {
                    "id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "name": {"type": "string"},
                    "age": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "secret_name": {"type": "string"},
                },
                "type": "object",
                "required": ["name", "secret_name"],
            },
        }))},
    });
    assert_document(&db.client, expected).await;
    db.client.shutdown().await;
}
