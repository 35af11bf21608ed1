//! The checks `#[portico::handler]` and `#[portico::provider]` add after the function: code
//! that is type-checked and never run, which states each parameter's and the return type's
//! bound on its own, spanned where the user wrote it. When a function does not fit, the
//! compiler then names the parameter or return type at fault and what it lacks, where the
//! route's bound alone could only say that the whole function is not a path operation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ReturnType, Signature, Type};

/// What the function is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A path operation: its last parameter may read the body; it returns a response.
    Handler,
    /// A dependency's provider: head-only parameters; it returns `Result<T, E>`.
    Provider,
}

/// The checks of the function whose (final) signature is `sig`.
pub(crate) fn checks(sig: &Signature, kind: Kind) -> TokenStream {
    let name = &sig.ident;
    let types: Vec<&Type> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let mut parameters = TokenStream::new();
    for (index, ty) in types.iter().enumerate() {
        let last = index + 1 == types.len();
        parameters.extend(if last && kind == Kind::Handler {
            quote_spanned!(ty.span()=> ::portico::__private::check::last_parameter::<#ty, _>();)
        } else {
            quote_spanned!(ty.span()=> ::portico::__private::check::head_parameter::<#ty>();)
        });
    }
    let args: Vec<_> = (0..types.len())
        .map(|i| format_ident!("__portico_arg{i}"))
        .collect();
    let output_span = match &sig.output {
        ReturnType::Default => name.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let output = match kind {
        Kind::Handler => quote!(::portico::__private::check::response),
        Kind::Provider => quote!(::portico::__private::check::provided),
    };
    let call = quote!(#name(#(#args),*));
    // Spanned where the user wrote them: the return type, and the function's name for an
    // `async fn` whose future is not `Send`.
    let reply = syn::Ident::new("__portico_reply", output_span);
    let body = if sig.asyncness.is_some() {
        let sent = quote_spanned!(name.span()=> ::portico::__private::check::send(#call));
        quote_spanned!(output_span=> async move {
            let #reply = #sent.await;
            #output(#reply)
        })
    } else {
        quote_spanned!(output_span=> {
            let #reply = #call;
            #output(#reply)
        })
    };
    quote! {
        #[allow(
            clippy::let_unit_value,
            reason = "the reply is bound to be checked where the return type is written"
        )]
        const _: fn() = || {
            #parameters
            let _ = |#(#args: #types),*| #body;
        };
    }
}
