//! What an application declares about itself beyond its handlers' types: responses added to
//! an operation's own, tags with external docs, and the servers its root path makes.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use http::{Method, StatusCode};
use portico_openapi::{
    Info, Operation, OperationDoc, ResponseDoc, ReturnDoc, Tag, add_root_server, document,
};
use serde_json::{Value, json};

fn get_item(doc: &OperationDoc) -> Value {
    let op = Operation {
        method: &Method::GET,
        template: "/items",
        doc,
    };
    let document = document(&Info::default(), [op]);
    document["paths"]["/items"]["get"]["responses"].clone()
}

fn returning_json(schema: Value) -> OperationDoc {
    let mut doc = OperationDoc::default();
    doc.handler_name = Some("get_item".into());
    doc.returns(ReturnDoc::Body {
        media_type: "application/json",
        schema: Some(schema),
    });
    doc
}

#[test]
fn a_declared_response_adds_to_the_operations_own() {
    let mut doc = returning_json(json!({"type": "string"}));
    doc.responses.push(
        ResponseDoc::new(StatusCode::OK, "The item, or its picture")
            .media_type("image/png", None)
            .example(json!("pen")),
    );
    assert_eq!(
        get_item(&doc)["200"],
        json!({
            "description": "The item, or its picture",
            "content": {
                "application/json": {"schema": {"type": "string"}, "example": "pen"},
                "image/png": {},
            },
        })
    );
}

#[test]
fn a_declared_response_without_a_description_keeps_the_one_it_adds_to() {
    let mut doc = returning_json(json!({"type": "string"}));
    doc.responses
        .push(ResponseDoc::new(StatusCode::OK, "").media_type("image/png", None));
    doc.responses
        .push(ResponseDoc::new(StatusCode::NOT_FOUND, "").schema(json!({"type": "string"})));
    let responses = get_item(&doc);
    assert_eq!(responses["200"]["description"], "Successful Response");
    assert_eq!(
        responses["200"]["content"]["application/json"],
        json!({"schema": {"type": "string"}})
    );
    // A new status without a description is described by its reason phrase, as FastAPI does.
    assert_eq!(responses["404"]["description"], "Not Found");
}

#[test]
fn responses_declared_twice_for_a_status_merge() {
    let mut first = ResponseDoc::new(StatusCode::OK, "The item").schema(json!({"type": "integer"}));
    first.merge(ResponseDoc::new(StatusCode::OK, "").example(json!(7)));
    first.merge(ResponseDoc::new(StatusCode::OK, "An item").media_type("text/csv", None));
    assert_eq!(first.description, "An item");
    assert_eq!(first.schema, Some(json!({"type": "integer"})));
    assert_eq!(first.example, Some(json!(7)));
    assert_eq!(first.media_types, vec![("text/csv".to_owned(), None)]);
}

#[test]
fn tags_carry_their_external_docs() {
    let mut info = Info::default();
    info.tags.push(Tag::new("users").description("People"));
    info.tags.push(
        Tag::new("items")
            .description("Things")
            .external_docs("https://example.com/", Some("Item docs")),
    );
    info.tags.push(Tag::new("bare"));
    assert_eq!(
        document(&info, [])["tags"],
        json!([
            {"name": "users", "description": "People"},
            {
                "name": "items",
                "description": "Things",
                "externalDocs": {"description": "Item docs", "url": "https://example.com/"},
            },
            {"name": "bare"},
        ])
    );
}

#[test]
fn the_root_path_is_listed_first_unless_the_app_says_not_to() {
    let mut info = Info::default();
    info.root_path = "/api/v1".into();
    info.servers
        .push(("https://prod.example.com".into(), Some("Production".into())));
    assert_eq!(
        document(&info, [])["servers"],
        json!([
            {"url": "/api/v1"},
            {"url": "https://prod.example.com", "description": "Production"},
        ])
    );
    info.root_path_in_servers = false;
    assert_eq!(
        document(&info, [])["servers"],
        json!([{"url": "https://prod.example.com", "description": "Production"}])
    );
    info.servers.clear();
    assert!(document(&info, []).get("servers").is_none());
}

#[test]
fn a_mount_prefix_is_listed_once_before_the_declared_servers() {
    let mut info = Info::default();
    info.servers.push(("https://example.com".into(), None));
    let mut doc = document(&info, []);
    add_root_server(&mut doc, "/subapi");
    add_root_server(&mut doc, "/subapi/");
    add_root_server(&mut doc, "");
    assert_eq!(
        doc["servers"],
        json!([{"url": "/subapi"}, {"url": "https://example.com"}])
    );
}
