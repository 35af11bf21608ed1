//! Procedural macros for Portico. Use them through the `portico` crate, which re-exports them
//! and supplies the code they expand to.

#![forbid(unsafe_code)]

mod test;

use proc_macro::TokenStream;

/// Turns an `async fn` test into one test per runtime compiled into `portico`.
///
/// See `portico::test` for the documentation.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
