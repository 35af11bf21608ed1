//! The error collection, against FastAPI's formats.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Item {
    name: String,
    price: f64,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Order {
    customer: String,
    #[schemars(range(min = 1, max = 100))]
    quantity: u32,
    items: Vec<Item>,
    #[schemars(length(min = 3))]
    code: String,
    note: Option<String>,
}

fn body() -> Vec<LocPart> {
    vec![LocPart::from("body")]
}

fn errors_json(errors: &[ErrorItem]) -> Value {
    serde_json::to_value(errors).unwrap()
}

#[test]
fn a_valid_body_deserialises() {
    let order: Order = from_json_bytes(
        &shapes_of::<Order>(),
        br#"{"customer":"ada","quantity":2,"items":[{"name":"pen","price":1.5}],"code":"abc"}"#,
        body(),
    )
    .unwrap();
    assert_eq!(
        order.items[0],
        Item {
            name: "pen".into(),
            price: 1.5
        }
    );
    assert_eq!(order.note, None);
}

#[test]
fn every_invalid_field_is_reported_with_its_location() {
    let errors = from_json_bytes::<Order>(
        &shapes_of::<Order>(),
        br#"{"quantity":0,"items":[{"name":"a","price":1},{"name":"b"},{"name":"c","price":"x"}],"code":"ab"}"#,
        body(),
    )
    .unwrap_err();
    let json = errors_json(&errors);
    let locs: Vec<&Value> = json.as_array().unwrap().iter().map(|e| &e["loc"]).collect();
    assert_eq!(
        locs,
        [
            &json!(["body", "customer"]),
            &json!(["body", "quantity"]),
            &json!(["body", "items", 1, "price"]),
            &json!(["body", "items", 2, "price"]),
            &json!(["body", "code"]),
        ]
    );
    assert_eq!(
        json[0],
        json!({"type": "missing", "loc": ["body", "customer"], "msg": "Field required", "input": {"quantity":0,"items":[{"name":"a","price":1},{"name":"b"},{"name":"c","price":"x"}],"code":"ab"}})
    );
    assert_eq!(
        json[1],
        json!({"type": "greater_than_equal", "loc": ["body", "quantity"], "msg": "Input should be greater than or equal to 1", "input": 0, "ctx": {"ge": 1}})
    );
    assert_eq!(json[2]["type"], "missing");
    assert_eq!(
        json[3],
        json!({"type": "float_parsing", "loc": ["body", "items", 2, "price"], "msg": "Input should be a valid number, unable to parse string as a number", "input": "x"})
    );
    assert_eq!(
        json[4],
        json!({"type": "string_too_short", "loc": ["body", "code"], "msg": "String should have at least 3 characters", "input": "ab", "ctx": {"min_length": 3}})
    );
}

#[test]
fn malformed_json_reports_the_offset() {
    let errors =
        from_json_bytes::<Item>(&shapes_of::<Item>(), b"{\"name\": \"a\", price: 1}", body())
            .unwrap_err();
    let json = errors_json(&errors);
    assert_eq!(json[0]["type"], "json_invalid");
    assert_eq!(json[0]["loc"], json!(["body", 14]));
    assert_eq!(json[0]["msg"], "JSON decode error");
    assert_eq!(json[0]["input"], json!({}));
    assert_eq!(
        json[0]["ctx"]["error"],
        "Expecting property name enclosed in double quotes"
    );
}

#[test]
fn json_syntax_errors_are_worded_as_pythons_json_module_words_them() {
    let cases: [(&[u8], &str); 12] = [
        (
            b"{some broken json}",
            "Expecting property name enclosed in double quotes",
        ),
        (b"{", "Expecting property name enclosed in double quotes"),
        (
            b"{\"a\": 1,}",
            "Expecting property name enclosed in double quotes",
        ),
        (b"{\"a\" 1}", "Expecting ':' delimiter"),
        (b"{\"a\": }", "Expecting value"),
        (b"{\"a\": 1", "Expecting ',' delimiter"),
        (b"{\"a\": 1 \"b\": 2}", "Expecting ',' delimiter"),
        (b"[1, 2", "Expecting ',' delimiter"),
        (b"[1,]", "Expecting value"),
        (b"tru", "Expecting value"),
        (b"{\"a\": 1} x", "Extra data"),
        (b"{\"a", "Unterminated string starting at"),
    ];
    for (input, expected) in cases {
        let errors = from_json_bytes::<Value>(&shapes_of::<Value>(), input, body()).unwrap_err();
        let json = errors_json(&errors);
        assert_eq!(
            json[0]["ctx"]["error"],
            expected,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn lax_conversions_apply_as_in_pydantic() {
    let order: Order = from_json_bytes(
        &shapes_of::<Order>(),
        br#"{"customer":"ada","quantity":"7","items":[{"name":"pen","price":"2.5"}],"code":"abc"}"#,
        body(),
    )
    .unwrap();
    assert_eq!(order.quantity, 7);
    assert_eq!(order.items[0].price, 2.5);
}

#[test]
fn integer_errors_name_their_kind() {
    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Numbers {
        a: u8,
        b: i32,
        c: u64,
        d: bool,
    }
    let errors = from_json_bytes::<Numbers>(
        &shapes_of::<Numbers>(),
        br#"{"a":300,"b":1.5,"c":"abc","d":"maybe"}"#,
        body(),
    )
    .unwrap_err();
    let kinds: Vec<String> = errors.iter().map(|e| e.kind.to_string()).collect();
    assert_eq!(
        kinds,
        [
            "less_than_equal",
            "int_from_float",
            "int_parsing",
            "bool_parsing"
        ]
    );
    assert_eq!(errors[0].ctx, Some(json!({"le": 255})));
}

#[test]
fn enums_and_tagged_unions_are_checked() {
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Model {
        Alexnet,
        Resnet,
    }
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(tag = "type")]
    #[allow(dead_code)]
    enum Shape {
        Circle { r: f64 },
        Square { side: f64 },
    }
    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Req {
        model: Model,
        shape: Shape,
    }
    let errors = from_json_bytes::<Req>(
        &shapes_of::<Req>(),
        br#"{"model":"vgg","shape":{"type":"Square","side":"big"}}"#,
        body(),
    )
    .unwrap_err();
    let json = errors_json(&errors);
    assert_eq!(
        json[0],
        json!({"type": "enum", "loc": ["body", "model"], "msg": "Input should be 'alexnet' or 'resnet'", "input": "vgg", "ctx": {"expected": "'alexnet' or 'resnet'"}})
    );
    assert_eq!(json[1]["loc"], json!(["body", "shape", "side"]));
    assert_eq!(
        json.as_array().unwrap().len(),
        2,
        "only the branch the tag names is reported"
    );
}

#[test]
fn query_parameters_are_coerced_from_strings() {
    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    struct Paging {
        limit: u32,
        #[serde(default)]
        verbose: bool,
        tag: Vec<String>,
        q: Option<String>,
    }
    let pairs = List(vec![
        ("limit", "10"),
        ("verbose", "yes"),
        ("tag", "a"),
        ("tag", "b"),
    ]);
    let paging: Paging = from_inputs(&shapes_of::<Paging>(), &pairs, vec!["query".into()]).unwrap();
    assert_eq!(
        paging,
        Paging {
            limit: 10,
            verbose: true,
            tag: vec!["a".into(), "b".into()],
            q: None
        }
    );
    // The checker's path reads the same strings the same way.
    let slow: Paging = from_params(
        &shapes_of::<Paging>(),
        |name| pairs.values(name).collect(),
        vec!["query".into()],
    )
    .unwrap();
    assert_eq!(slow, paging);

    let bad = List(vec![("limit", "ten"), ("verbose", "maybe")]);
    let errors =
        from_inputs::<Paging, _>(&shapes_of::<Paging>(), &bad, vec!["query".into()]).unwrap_err();
    let json = errors_json(&errors);
    assert_eq!(
        json[0],
        json!({"type": "int_parsing", "loc": ["query", "limit"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "ten"})
    );
    assert_eq!(json[1]["type"], "bool_parsing");
    // A model's missing field reports the model's input, as FastAPI's parameter models do.
    assert_eq!(
        json[2],
        json!({"type": "missing", "loc": ["query", "tag"], "msg": "Field required", "input": {"limit": "ten", "verbose": "maybe"}})
    );
}

/// Inputs for tests: a list of pairs.
struct List(Vec<(&'static str, &'static str)>);

impl Inputs for List {
    fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        self.0
            .iter()
            .filter(move |(k, _)| *k == name)
            .map(|(_, v)| *v)
    }
}

#[test]
fn the_fast_path_and_the_checker_read_strings_alike() {
    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum SortKey {
        Asc,
        Desc,
    }
    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Filters {
        n: i32,
        big: u64,
        ratio: f64,
        flag: bool,
        order: SortKey,
        maybe: Option<u8>,
        #[serde(rename = "tag")]
        tags: Option<Vec<u16>>,
    }
    let cases = [
        vec![
            ("n", "+5"),
            ("big", " 18446744073709551615 "),
            ("ratio", "2.5"),
            ("flag", "on"),
            ("order", "desc"),
        ],
        vec![
            ("n", "-7"),
            ("big", "0"),
            ("ratio", "1e3"),
            ("flag", "F"),
            ("order", "asc"),
            ("maybe", "9"),
            ("tag", "1"),
            ("tag", "2"),
        ],
    ];
    for case in cases {
        let inputs = List(case.clone());
        let shapes = &shapes_of::<Filters>();
        let fast = Filters::deserialize(Fields {
            shapes,
            inputs: &inputs,
        })
        .unwrap();
        let slow: Filters = from_params(
            shapes,
            |name| inputs.values(name).collect(),
            vec!["query".into()],
        )
        .unwrap();
        assert_eq!(fast, slow, "{case:?}");
    }
    // What the fast path cannot read, the checker reports.
    let inputs = List(vec![
        ("n", "1.5"),
        ("big", "-1"),
        ("ratio", "inf"),
        ("flag", "2"),
        ("order", "up"),
        ("maybe", "300"),
    ]);
    let shapes = &shapes_of::<Filters>();
    assert!(
        Filters::deserialize(Fields {
            shapes,
            inputs: &inputs
        })
        .is_err()
    );
    let errors = from_inputs::<Filters, _>(&shapes_of::<Filters>(), &inputs, vec!["query".into()])
        .unwrap_err();
    let kinds: Vec<&str> = errors.iter().map(|e| e.kind.as_ref()).collect();
    assert_eq!(
        kinds,
        [
            "int_parsing",
            "greater_than_equal",
            "float_parsing",
            "bool_parsing",
            "enum",
            "less_than_equal"
        ]
    );
}

/// `T`'s shapes, as a route compiles them.
fn shapes_of<T: JsonSchema>() -> Shapes {
    Shapes::compile(&portico_openapi::schema_for::<T>()).unwrap()
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code, reason = "read through the checker")]
struct Link {
    #[schemars(url)]
    href: String,
    weights: std::collections::HashMap<i64, f64>,
}

#[test]
fn urls_and_integer_keys_are_checked_as_pydantic_checks_them() {
    let shapes = shapes_of::<Link>();
    let good = json!({"href": "https://example.com/a", "weights": {"1": 0.5, "-2": 1}});
    assert!(from_json_value::<Link>(&shapes, good, body()).is_ok());
    let bad = json!({"href": "not a valid url", "weights": {"foo": 2.2, "3": "x"}});
    let errors = errors_json(&from_json_value::<Link>(&shapes, bad, body()).unwrap_err());
    assert_eq!(
        errors,
        json!([
            {"type": "url_parsing", "loc": ["body", "href"], "msg": "Input should be a valid URL, relative URL without a base", "input": "not a valid url", "ctx": {"error": "relative URL without a base"}},
            {"type": "int_parsing", "loc": ["body", "weights", "foo", "[key]"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "foo"},
            {"type": "float_parsing", "loc": ["body", "weights", "3"], "msg": "Input should be a valid number, unable to parse string as a number", "input": "x"},
        ])
    );
    let empty = json!({"href": "", "weights": {}});
    let errors = errors_json(&from_json_value::<Link>(&shapes, empty, body()).unwrap_err());
    assert_eq!(
        errors[0]["msg"],
        "Input should be a valid URL, input is empty"
    );
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum SortKey {
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(inline)]
enum OrderLiteral {
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code, reason = "read through the checker")]
struct Sorting {
    order: SortKey,
    literal: OrderLiteral,
}

#[test]
fn a_named_enum_answers_enum_and_an_inline_one_literal_error() {
    let shapes = shapes_of::<Sorting>();
    let bad = json!({"order": "x", "literal": "y"});
    let errors = errors_json(&from_json_value::<Sorting>(&shapes, bad, body()).unwrap_err());
    assert_eq!(errors[0]["type"], "enum");
    assert_eq!(errors[1]["type"], "literal_error");
    assert_eq!(
        errors[1]["msg"],
        "Input should be 'created_at' or 'updated_at'"
    );
    let root = shapes_of::<SortKey>();
    let errors = errors_json(&from_json_value::<SortKey>(&root, json!("x"), body()).unwrap_err());
    assert_eq!(errors[0]["type"], "enum", "a named enum at the root too");
}
