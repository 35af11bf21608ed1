//! `tutorial002`: a model for the table (`Hero`) and one for each use: `HeroPublic` answered,
//! `HeroCreate` read to create, `HeroUpdate` read to update (as a `Partial`, which remembers
//! the fields the client sent: `model_dump(exclude_unset=True)`).

use portico::{App, Depends, HttpError, Json, Partial};
use rusqlite::{OptionalExtension, Row, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Database, Engine, Session, database_app, database_error, with_int_ids};
use crate::support::{any_json_response, assert_document, nullable, param};
use crate::support::{schemas_with_validation, validation_response};

/// The table's model.
#[derive(Serialize, Deserialize)]
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

#[derive(Serialize, JsonSchema)]
struct HeroPublic {
    name: String,
    age: Option<i64>,
    id: i64,
}

impl TryFrom<Hero> for HeroPublic {
    type Error = HttpError;

    /// `HeroPublic.model_validate(hero)`: a hero read back from the table has its id.
    fn try_from(hero: Hero) -> Result<Self, HttpError> {
        Ok(HeroPublic {
            name: hero.name,
            age: hero.age,
            id: hero.id.ok_or_else(database_error)?,
        })
    }
}

#[derive(Deserialize, JsonSchema)]
struct HeroCreate {
    name: String,
    age: Option<i64>,
    secret_name: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct HeroUpdate {
    name: Option<String>,
    age: Option<i64>,
    secret_name: Option<String>,
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

/// `session.add(hero)`, `session.commit()` and `session.refresh(hero)`: writes the hero (a new
/// one gets its id from the database) and reads it back.
fn save(session: &Session, hero: &Hero) -> Result<Hero, HttpError> {
    let id = session.run(|conn| {
        conn.execute(
            "INSERT OR REPLACE INTO hero (id, name, age, secret_name) VALUES (?1, ?2, ?3, ?4)",
            params![hero.id, hero.name, hero.age, hero.secret_name],
        )?;
        Ok(conn.last_insert_rowid())
    })?;
    get_hero(session, id)?.ok_or_else(database_error)
}

fn hero_not_found() -> HttpError {
    HttpError::not_found().detail("Hero not found")
}

#[portico::handler]
fn create_hero(
    Depends(session): Depends<Session>,
    Json(hero): Json<HeroCreate>,
) -> Result<Json<HeroPublic>, HttpError> {
    let db_hero = Hero {
        id: None,
        name: hero.name,
        age: hero.age,
        secret_name: hero.secret_name,
    };
    Ok(Json(save(&session, &db_hero)?.try_into()?))
}

#[portico::handler]
fn read_heroes(
    Depends(session): Depends<Session>,
    #[query(default = 0)] offset: i64,
    #[query(default = 100, le = 100)] limit: i64,
) -> Result<Json<Vec<HeroPublic>>, HttpError> {
    let heroes: Vec<Hero> = session.run(|conn| {
        conn.prepare("SELECT id, name, age, secret_name FROM hero LIMIT ?1 OFFSET ?2")?
            .query_map(params![limit, offset], Hero::from_row)?
            .collect()
    })?;
    let heroes = heroes.into_iter().map(HeroPublic::try_from);
    Ok(Json(heroes.collect::<Result<_, _>>()?))
}

#[portico::handler]
fn read_hero(
    #[path] hero_id: i64,
    Depends(session): Depends<Session>,
) -> Result<Json<HeroPublic>, HttpError> {
    let hero = get_hero(&session, hero_id)?.ok_or_else(hero_not_found)?;
    Ok(Json(hero.try_into()?))
}

#[portico::handler]
fn update_hero(
    #[path] hero_id: i64,
    Depends(session): Depends<Session>,
    Json(hero): Json<Partial<HeroUpdate>>,
) -> Result<Json<HeroPublic>, HttpError> {
    let hero_db = get_hero(&session, hero_id)?.ok_or_else(hero_not_found)?;
    let hero_data = hero.to_json().map_err(|_| database_error())?;
    // hero_db.sqlmodel_update(hero_data): a field set to `null` that the table needs fails
    // when written, as SQLModel's commit does.
    let Value::Object(mut fields) = json!(hero_db) else {
        return Err(database_error());
    };
    fields.extend(hero_data);
    let hero_db: Hero = serde_json::from_value(Value::Object(fields)).map_err(|err| {
        tracing::error!("the hero cannot be written: {err}");
        database_error()
    })?;
    Ok(Json(save(&session, &hero_db)?.try_into()?))
}

#[portico::handler]
fn delete_hero(
    #[path] hero_id: i64,
    Depends(session): Depends<Session>,
) -> Result<Json<Value>, HttpError> {
    if get_hero(&session, hero_id)?.is_none() {
        return Err(hero_not_found());
    }
    session.run(|conn| conn.execute("DELETE FROM hero WHERE id = ?1", params![hero_id]))?;
    Ok(Json(json!({"ok": true})))
}

fn app(engine: Engine) -> App {
    database_app(engine)
        .post("/heroes/", create_hero)
        .get("/heroes/", read_heroes)
        .get("/heroes/{hero_id}", read_hero)
        .patch("/heroes/{hero_id}", update_hero)
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
        .json(&json!({"id": 9000, "name": "Dead Pond", "age": 30, "secret_name": "Dive Wilson"}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        with_int_ids(&response),
        json!({"age": 30, "id": "IsInt()", "name": "Dead Pond"})
    );
    assert_ne!(
        response.json::<Value>()["id"],
        9000,
        "The ID should be generated by the database"
    );

    // Read a hero
    let hero_id = response.json::<Value>()["id"].as_i64().unwrap();
    let response = client.get(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        with_int_ids(&response),
        json!({"name": "Dead Pond", "age": 30, "id": "IsInt()"})
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
            {"name": "Dead Pond", "age": 30, "id": "IsInt()"},
            {"name": "Spider-Boy", "age": 18, "id": "IsInt()"},
            {"name": "Rusty-Man", "age": null, "id": "IsInt()"},
        ])
    );

    let response = client.get("/heroes/?offset=1&limit=1").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        with_int_ids(&response),
        json!([{"name": "Spider-Boy", "age": 18, "id": "IsInt()"}])
    );

    // Update a hero
    let response = client
        .patch(format!("/heroes/{hero_id}"))
        .json(&json!({"name": "Dog Pond", "age": null}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Dog Pond", "age": null, "id": hero_id})
    );

    // Get updated hero
    let response = client.get(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Dog Pond", "age": null, "id": hero_id})
    );

    // Delete a hero
    let response = client.delete(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!({"ok": true}));

    // The hero is no longer found
    let response = client.get(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 404, "{}", response.text());

    // Delete a hero that does not exist
    let response = client.delete(format!("/heroes/{hero_id}")).await;
    assert_eq!(response.status(), 404, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": "Hero not found"})
    );

    // Update a hero that does not exist
    let response = client
        .patch(format!("/heroes/{hero_id}"))
        .json(&json!({"name": "Dog Pond"}))
        .await;
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
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let answers = |schema: Value| {
        json!({
            "200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": schema}},
            },
            "422": validation_response(),
        })
    };
    let body = |name: &str| json!({"required": true, "content": {"application/json": {"schema": schema(name)}}});
    let hero_id = param("path", "hero_id", true, json!({"type": "integer"}));
    let integer = json!({"type": "integer"});
    let string = json!({"type": "string"});
    let expected = json!({
        "openapi": "3.1.0",
        "paths": {
            "/heroes/": {
                "post": {
                    "summary": "Create Hero",
                    "operationId": "create_hero_heroes__post",
                    "requestBody": body("HeroCreate"),
                    "responses": answers(schema("HeroPublic")),
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
                    "responses": answers(json!({"type": "array", "items": schema("HeroPublic")})),
                },
            },
            "/heroes/{hero_id}": {
                "get": {
                    "summary": "Read Hero",
                    "operationId": "read_hero_heroes__hero_id__get",
                    "parameters": [hero_id],
                    "responses": answers(schema("HeroPublic")),
                },
                "patch": {
                    "summary": "Update Hero",
                    "operationId": "update_hero_heroes__hero_id__patch",
                    "parameters": [hero_id],
                    "requestBody": body("HeroUpdate"),
                    "responses": answers(schema("HeroPublic")),
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
            "HeroCreate": {
                "properties": {
                    "name": string,
                    "age": nullable(integer.clone()),
                    "secret_name": string,
                },
                "type": "object",
                "required": ["name", "secret_name"],
            },
            "HeroPublic": {
                "properties": {
                    "name": string,
                    "age": nullable(integer.clone()),
                    "id": integer,
                },
                "type": "object",
                "required": ["name", "id"],
            },
            "HeroUpdate": {
                "properties": {
                    "name": nullable(string.clone()),
                    "age": nullable(integer.clone()),
                    "secret_name": nullable(string.clone()),
                },
                "type": "object",
            },
        }))},
    });
    assert_document(&db.client, expected).await;
    db.client.shutdown().await;
}
