//! The one-pass reading of a JSON body against the checker: on every input, a body read in
//! one pass gives what the checker gives (the same value, the same errors), and a valid body
//! of a constrained type is read in one pass.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::*;

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Line {
    #[schemars(length(min = 1, max = 8))]
    sku: String,
    #[schemars(range(min = 1, max = 99))]
    quantity: u32,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
enum Speed {
    Slow,
    Fast,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Extras {
    #[schemars(length(max = 3))]
    gift: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Order {
    #[schemars(length(min = 2), regex(pattern = r"^[a-z]+$"))]
    customer: String,
    #[serde(rename = "lineItems")]
    #[schemars(length(min = 1, max = 3))]
    lines: Vec<Line>,
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1000))]
    total: f64,
    speed: Speed,
    note: Option<Line>,
    #[serde(default)]
    #[schemars(range(min = 0))]
    discount: i32,
    #[schemars(url)]
    site: Option<String>,
    labels: HashMap<String, Line>,
    #[serde(flatten)]
    extras: Extras,
    when: Option<chrono::NaiveDate>,
    pair: Option<(Line, u8)>,
    #[schemars(inner(length(min = 1)))]
    tags: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
struct Strict {
    #[schemars(range(max = 10))]
    n: i64,
    flag: bool,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "kind")]
enum Shape {
    Circle {
        #[schemars(range(min = 0.0))]
        radius: f64,
    },
    Square {
        side: f64,
    },
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Drawing {
    #[schemars(length(max = 2))]
    shapes: Vec<Shape>,
    #[schemars(extend("multipleOf" = 0.5))]
    scale: f64,
}

const VALID_ORDER: &str = r#"{"customer":"ada","lineItems":[{"sku":"pen","quantity":2}],
    "total":12.5,"speed":"Fast","note":null,"site":"https://example.com",
    "labels":{"x":{"sku":"cap","quantity":1}},"gift":"bow","when":"2026-12-05",
    "pair":[{"sku":"a","quantity":3},7],"tags":["a"]}"#;

/// What the checker alone makes of `bytes`: a `Value`, checked, then deserialised.
fn by_checker<T: DeserializeOwned>(shapes: &Shapes, bytes: &[u8]) -> Result<T, Vec<ErrorItem>> {
    let loc = vec![LocPart::from("body")];
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|err| vec![json_invalid(&err, bytes, loc.clone())])?;
    from_json_value(shapes, value, loc)
}

/// Reads `body` both ways, asserts they agree, and says whether it took one pass.
fn agree<T: DeserializeOwned + JsonSchema + PartialEq + std::fmt::Debug>(body: &str) -> bool {
    let shapes = Shapes::compile(&portico_openapi::schema_for::<T>()).unwrap();
    let read = from_json_bytes::<T>(&shapes, body.as_bytes(), vec![LocPart::from("body")]);
    let checked = by_checker::<T>(&shapes, body.as_bytes());
    match (&read, &checked) {
        (Ok(read), Ok(checked)) => assert_eq!(read, checked, "{body}"),
        (Err(read), Err(checked)) => assert_eq!(
            serde_json::to_value(read).unwrap(),
            serde_json::to_value(checked).unwrap(),
            "{body}"
        ),
        _ => panic!("{body}: read {read:?}, checker {checked:?}"),
    }
    stream::from_slice::<T>(&shapes, body.as_bytes()).is_some()
}

/// `VALID_ORDER` with `field` set to `value` (JSON text), or taken out when `value` is empty.
fn order_with(field: &str, value: &str) -> String {
    let mut order: serde_json::Map<String, Value> = serde_json::from_str(VALID_ORDER).unwrap();
    if value.is_empty() {
        order.remove(field);
    } else {
        order.insert(field.into(), serde_json::from_str(value).unwrap());
    }
    Value::Object(order).to_string()
}

#[test]
fn a_valid_constrained_body_is_read_in_one_pass() {
    assert!(agree::<Order>(VALID_ORDER));
    assert!(agree::<Order>(&order_with("discount", "5")));
    assert!(agree::<Order>(&order_with(
        "note",
        r#"{"sku":"x","quantity":99}"#
    )));
    assert!(agree::<Order>(&order_with("gift", "")));
    assert!(agree::<Order>(&order_with("unknown", r#"{"any":[1,"x"]}"#)));
    assert!(agree::<Strict>(r#"{"n":-4,"flag":true}"#));
    assert!(agree::<Drawing>(r#"{"shapes":[],"scale":2.5}"#));
}

#[test]
fn a_body_breaking_a_constraint_gets_the_checkers_errors() {
    for (field, value) in [
        ("customer", r#""a""#),
        ("customer", r#""Ada""#),
        ("lineItems", "[]"),
        (
            "lineItems",
            r#"[{"sku":"a","quantity":1},{"sku":"b","quantity":1},{"sku":"c","quantity":1},{"sku":"d","quantity":1}]"#,
        ),
        ("lineItems", r#"[{"sku":"","quantity":100}]"#),
        ("total", "0"),
        ("total", "1000.5"),
        ("discount", "-1"),
        ("site", r#""example.com""#),
        ("labels", r#"{"x":{"sku":"waytoolongsku","quantity":1}}"#),
        ("gift", r#""ribbon""#),
        ("when", r#""2026-13-45""#),
        ("pair", r#"[{"sku":"","quantity":3},7]"#),
        ("tags", r#"["a",""]"#),
        ("note", r#"{"sku":"x","quantity":0}"#),
    ] {
        assert!(
            !agree::<Order>(&order_with(field, value)),
            "{field}: {value}"
        );
    }
    assert!(!agree::<Strict>(r#"{"n":11,"flag":true}"#));
    assert!(!agree::<Strict>(r#"{"n":1,"flag":true,"more":1}"#));
    assert!(!agree::<Drawing>(r#"{"shapes":[],"scale":0.3}"#));
}

#[test]
fn what_the_checker_converts_or_rejects_is_left_to_it() {
    for (field, value) in [
        // Pydantic's lax mode: the checker converts these, serde alone would refuse them.
        ("discount", r#""7""#),
        ("discount", "3.0"),
        ("lineItems", r#"[{"sku":"a","quantity":"2"}]"#),
        // A date for a datetime field would be rewritten; here, missing and wrong types.
        ("customer", ""),
        ("customer", "7"),
        ("speed", r#""Medium""#),
        ("lineItems", r#"{"sku":"a"}"#),
        ("labels", "[]"),
        ("total", "null"),
    ] {
        assert!(
            !agree::<Order>(&order_with(field, value)),
            "{field}: {value}"
        );
    }
    // Broken JSON, and JSON followed by more.
    assert!(!agree::<Order>(r#"{"customer":"ada","#));
    assert!(!agree::<Order>(&format!("{VALID_ORDER} 1")));
    assert!(!agree::<Strict>(r#"{"n":1,"flag":1}"#));
    assert!(!agree::<Strict>(r#"{"n":1,"flag":true,"n":2}"#));
}

#[test]
fn a_union_with_constraints_inside_is_left_to_the_checker() {
    // An internally tagged enum is a union to the checker; its answer stands either way.
    assert!(!agree::<Drawing>(
        r#"{"shapes":[{"kind":"Circle","radius":1.0}],"scale":1}"#
    ));
    assert!(!agree::<Drawing>(
        r#"{"shapes":[{"kind":"Circle","radius":-1.0}],"scale":1}"#
    ));
    assert!(!agree::<Drawing>(
        r#"{"shapes":[{"kind":"Square","side":2}],"scale":1}"#
    ));
}

#[test]
fn a_type_without_constraints_is_read_by_serde_alone() {
    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    struct Plain {
        name: String,
        count: i64,
    }
    let shapes = Shapes::compile(&portico_openapi::schema_for::<Plain>()).unwrap();
    assert!(!shapes.constrained[shapes.root]);
    assert!(agree::<Plain>(r#"{"name":"a","count":1}"#));
    assert!(!agree::<Plain>(r#"{"name":"a","count":"1"}"#));
}
