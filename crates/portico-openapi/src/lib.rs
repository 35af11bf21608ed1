//! Portico's OpenAPI 3.1 model: what an operation reads and answers ([`OperationDoc`]), the
//! JSON Schemas of Rust types ([`schema_for`]), the document built from a list of operations
//! ([`document`], with webhooks: [`document_with_webhooks`]; an operation's callbacks are
//! [`CallbackDoc`]s), and the interactive docs pages that show it ([`ui`]).
//!
//! Every parameter, dependency, security tool and return type of a Portico application
//! describes itself into its route's [`OperationDoc`] when the route is registered, from the
//! same types that answer requests, so the document cannot drift from the code. This crate
//! holds that model and nothing else: it names no other Portico crate, no runtime and no
//! HTTP server, so a tool can build a document or render the pages on its own.
//!
//! # Examples
//!
//! ```
//! use portico_openapi::{BodyDoc, Info, Operation, OperationDoc, ReturnDoc, document, doc_schema_for};
//!
//! #[derive(schemars::JsonSchema)]
//! struct Item {
//!     name: String,
//!     price: f64,
//! }
//!
//! let mut create = OperationDoc::default();
//! create.handler_name = Some("create_item".into());
//! create.body(BodyDoc::new("application/json", doc_schema_for::<Item>(false), true));
//! create.returns(ReturnDoc::Body { media_type: "application/json", schema: Some(doc_schema_for::<Item>(true)) });
//!
//! let mut info = Info::default();
//! info.title = "Shop".into();
//! let doc = document(&info, [Operation { method: &http::Method::POST, template: "/items", doc: &create }]);
//! assert_eq!(doc["openapi"], "3.1.0");
//! assert_eq!(doc["paths"]["/items"]["post"]["operationId"], "create_item_items_post");
//! assert_eq!(doc["components"]["schemas"]["Item"]["required"], serde_json::json!(["name", "price"]));
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `assets` | off | Swagger UI's and ReDoc's files embedded (0.8 MB, kept gzip-compressed), so that the docs pages work offline; without it they load from the jsDelivr CDN |

#![forbid(unsafe_code)]

mod components;
mod document;
mod hooks;
mod info;
mod operation;
mod schema;
pub mod ui;

pub use document::{
    OPENAPI_VERSION, Operation, add_root_server, document, document_with_webhooks, openapi_path,
};
pub use hooks::CallbackDoc;
pub use info::{Contact, Info, License, Tag};
pub use operation::{BodyDoc, OperationDoc, ParamDoc, ResponseDoc, ReturnDoc, SecurityDoc, Source};
pub use schema::{INTEGER_KEY_PATTERNS, doc_schema_for, properties, schema_for};
