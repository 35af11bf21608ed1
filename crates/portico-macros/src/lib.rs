//! Procedural macros for Portico. Use them through the `portico` crate, which re-exports them
//! and supplies the code they expand to.

#![forbid(unsafe_code)]

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
/// ```ignore
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
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
