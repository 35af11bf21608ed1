//! Procedural macros for Portico. Use them through the `portico` crate, which re-exports them
//! and supplies the code they expand to.

#![forbid(unsafe_code)]

mod check;
mod handler;
mod test;

use proc_macro::TokenStream;

/// Turns a test into one test per runtime compiled into `portico`, named `name::tokio` and
/// `name::smol`.
///
/// * On an `async fn` with no arguments, each generated test starts a fresh runtime of its
///   kind (two worker threads) and runs the function on it.
/// * On a plain `fn` taking `portico::RuntimeKind`, each generated test calls it with its kind,
///   on a thread of its own: for synchronous tests that start what they need on that runtime,
///   such as `portico::testing::blocking_client_on(rt, app)`.
///
/// Arguments: `timeout = seconds` (60 by default; the test fails when it runs longer) and
/// `workers = n` (executor threads of an async test's runtime). Other attributes
/// (`#[should_panic]`, `#[ignore]`) are copied onto each generated test.
///
/// ```
/// fn app() -> portico::App {
///     portico::App::new().get("/", || async { "Hello, World!" })
/// }
///
/// #[portico::test(timeout = 5)]
/// async fn sleeps() {
///     portico::rt::current().unwrap().sleep(std::time::Duration::from_millis(1)).await;
/// }
///
/// #[portico::test]
/// fn answers(rt: portico::RuntimeKind) {
///     let client = portico::testing::blocking_client_on(rt, app());
///     assert_eq!(client.get("/").send().status(), 200);
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares single query, path, header and cookie parameters by name, as FastAPI does:
/// `#[query] q: Option<String>`, `#[query(default = 10, ge = 1, le = 100)] limit: u32`,
/// `#[path] item_id: u64`, `#[header] user_agent: String` (the header `user-agent`),
/// `#[cookie] session: Option<String>`.
///
/// The parameters of each kind are gathered into a struct generated next to the function, read
/// with the matching extractor, so every invalid value is reported with its location in one
/// 422. A `Vec` collects a repeated key; `Option` makes a parameter optional; `default = expr`
/// gives a value when it is absent. Constraints (`ge`, `gt`, `le`, `lt`, `multiple_of`,
/// `min_length`, `max_length`, `pattern`) are validated and documented; `alias` renames the
/// parameter on the wire; `description` documents it. A header's name is its parameter's with
/// `_` turned into `-`; an `alias` is used as written, and `#[header(convert_underscores =
/// false)]` keeps the underscores (FastAPI's `Header(convert_underscores=False)`).
/// `required` makes an `Option` parameter one the client must send (FastAPI's "required, can
/// be None"); `include_in_schema = false` reads and validates a query, header or cookie
/// parameter but leaves it out of the OpenAPI document. Other parameters are left as they
/// are, after the generated ones (and before the body).
///
/// `#[body]` declares JSON body parameters as FastAPI's `Body()`: one alone is the body itself
/// (read as `Json<T>`); several, or one written `#[body(embed)]`, are the keys of a body object
/// (read as `Embed<..>`, each validated on its own and the object documented as
/// `Body_<operationId>`), and take the same options as a query parameter. `#[form]` declares
/// form fields and files (FastAPI's `Form()` and `File()`, `UploadFile` for a file), read
/// with `Form<..>` and documented as `Body_<operationId>`; a handler has `#[body]` or
/// `#[form]` parameters, not both.
///
/// ```
/// # use schemars::JsonSchema;
/// # use serde::{Deserialize, Serialize};
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Item {
///     name: String,
/// }
///
/// // The body `{"item": {"name": "pot"}, "importance": 5}`.
/// #[portico::handler]
/// async fn update(
///     #[path] item_id: u64,
///     #[body] item: Item,
///     #[body(gt = 0)] importance: i32,
/// ) -> String {
///     format!("{item_id}: {} ({importance})", item.name)
/// }
/// # let app = portico::App::new().put("/items/{item_id}", update);
/// ```
///
/// ```
/// #[portico::handler]
/// async fn search(#[query] q: String, #[query(default = 10, le = 100)] limit: u32) -> String {
///     format!("{q} ({limit})")
/// }
///
/// let app = portico::App::new().get("/search", search);
/// ```
#[proc_macro_attribute]
pub fn handler(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(args.into(), item.into(), check::Kind::Handler)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A dependency's provider, as `#[portico::handler]` is a handler: single named parameters
/// (`#[query]`, `#[path]`, `#[header]`, `#[cookie]`, with the same options; a provider reads
/// the request's head only, so not `#[body]` or `#[form]`), and compile errors reported where
/// the mistake is written: a parameter that does not read the request's head, or a return type
/// that is not `Result<T, E>` with an error that is a response. Without the attribute, the
/// same mistakes are reported at `App::provide` as "... is not a dependency provider".
///
/// ```
/// use portico::{Header, HttpError};
///
/// struct Paging {
///     skip: u32,
///     limit: u32,
/// }
///
/// #[portico::provider]
/// async fn paging(
///     #[query(default = 0)] skip: u32,
///     #[query(default = 100, le = 1000)] limit: u32,
/// ) -> Result<Paging, HttpError> {
///     Ok(Paging { skip, limit })
/// }
///
/// let app = portico::App::new().provide(paging);
/// # drop(app);
/// ```
#[proc_macro_attribute]
pub fn provider(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(args.into(), item.into(), check::Kind::Provider)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
