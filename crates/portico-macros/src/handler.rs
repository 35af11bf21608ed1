//! `#[portico::handler]`: single named parameters, as FastAPI declares them.
//!
//! ```
//! # use portico::prelude::*;
//! # #[derive(serde::Deserialize, schemars::JsonSchema)]
//! # struct Item { name: String }
//! #[portico::handler]
//! async fn read_items(
//!     #[path] item_id: u64,
//!     #[query] q: Option<String>,
//!     #[query(default = 10, ge = 1, le = 100)] limit: u32,
//!     #[header] user_agent: Option<String>,
//!     body: Json<Item>,
//! ) -> String {
//!     format!("{item_id} {q:?} {limit} {user_agent:?} {}", body.0.name)
//! }
//! ```
//!
//! becomes a function whose first parameters are `Path<S1>`, `Query<S2>`, `Header<S3>` and
//! `Cookie<S4>` of structs generated next to it (deriving `Deserialize` and `JsonSchema`, with
//! the constraints as schemars attributes), destructured back into the names the function uses;
//! the other parameters follow, in their order. Every invalid value is reported with its
//! location, as the extractors do for hand-written structs.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, FnArg, Ident, ItemFn, Lit, Meta, Pat, Token, Type};

use crate::check::Kind;

/// Where a parameter is read from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Path,
    Query,
    Header,
    Cookie,
    /// JSON body parameters: one is the body itself, several (or one with `embed`) are the
    /// keys of an object.
    Body,
    /// Form fields and files (FastAPI's `Form()` and `File()`).
    Form,
}

impl Source {
    const ALL: [Source; 6] = [
        Source::Path,
        Source::Query,
        Source::Header,
        Source::Cookie,
        Source::Body,
        Source::Form,
    ];

    /// Whether the parameters read the body, which only the handler's last parameter may.
    fn reads_body(self) -> bool {
        matches!(self, Source::Body | Source::Form)
    }

    fn attr(self) -> &'static str {
        match self {
            Source::Path => "path",
            Source::Query => "query",
            Source::Header => "header",
            Source::Cookie => "cookie",
            Source::Body => "body",
            Source::Form => "form",
        }
    }

    fn extractor(self) -> TokenStream {
        match self {
            Source::Path => quote!(::portico::Path),
            Source::Query => quote!(::portico::Query),
            Source::Header => quote!(::portico::Header),
            Source::Cookie => quote!(::portico::Cookie),
            Source::Body => quote!(::portico::Embed),
            Source::Form => quote!(::portico::Form),
        }
    }
}

/// One single-value parameter.
struct Param {
    source: Source,
    pat: Pat,
    name: Ident,
    ty: Type,
    default: Option<Expr>,
    field_attrs: Vec<TokenStream>,
    /// `#[body(embed)]`: the body is an object with this parameter as a key.
    embed: bool,
}

fn error(span: impl quote::ToTokens, message: &str) -> syn::Error {
    syn::Error::new_spanned(span, message)
}

/// The options of `#[query(...)]` and friends: the default, field attributes of the generated
/// struct, and whether a body parameter is embedded.
fn options(
    attr: &Attribute,
    source: Source,
) -> syn::Result<(Option<Expr>, Vec<TokenStream>, bool)> {
    let mut default = None;
    let mut field_attrs = Vec::new();
    let mut embed = false;
    let (mut min, mut max) = (None, None);
    let (mut min_length, mut max_length) = (None, None);
    let Meta::List(list) = &attr.meta else {
        return Ok((None, field_attrs, embed));
    };
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(list.tokens.clone())?;
    let mut pairs = Vec::new();
    for meta in metas {
        match meta {
            Meta::NameValue(pair) => pairs.push(pair),
            // `required`: an `Option` the client must still send (FastAPI's
            // `q: str | None = Query(min_length=3)`, "required, can be None").
            Meta::Path(path) if path.is_ident("required") => {
                field_attrs.push(quote!(#[schemars(required)]));
            }
            Meta::Path(path) if path.is_ident("embed") && matches!(source, Source::Body) => {
                embed = true;
            }
            // `deprecated` alone, as FastAPI's `deprecated=True`.
            Meta::Path(path) if path.is_ident("deprecated") => {
                field_attrs.push(quote!(#[schemars(extend("deprecated" = true))]));
            }
            other => {
                return Err(error(
                    other,
                    "expected `name = value` (such as `default = 10` or `ge = 1`), `required` or `deprecated`",
                ));
            }
        }
    }
    for pair in pairs {
        let key = pair
            .path
            .get_ident()
            .map(ToString::to_string)
            .ok_or_else(|| error(&pair.path, "expected a name such as `default` or `ge`"))?;
        let value = pair.value;
        let text = || match &value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Ok(text.clone()),
            other => Err(error(other, "expected a string literal")),
        };
        match key.as_str() {
            "default" => default = Some(value),
            "alias" => {
                let alias = text()?;
                field_attrs.push(quote!(#[serde(rename = #alias)]));
                // An alias names the header as written, as FastAPI's does.
                if matches!(source, Source::Header) {
                    field_attrs.push(quote!(#[schemars(extend("x-portico-verbatim" = true))]));
                }
            }
            "include_in_schema"
                if matches!(source, Source::Query | Source::Header | Source::Cookie) =>
            {
                match &value {
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Bool(include),
                        ..
                    }) => {
                        if !include.value {
                            field_attrs
                                .push(quote!(#[schemars(extend("x-portico-hidden" = true))]));
                        }
                    }
                    other => return Err(error(other, "expected `true` or `false`")),
                }
            }
            "convert_underscores" if matches!(source, Source::Header) => match &value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Bool(convert),
                    ..
                }) => {
                    if !convert.value {
                        field_attrs.push(quote!(#[schemars(extend("x-portico-verbatim" = true))]));
                    }
                }
                other => return Err(error(other, "expected `true` or `false`")),
            },
            "description" => {
                let description = text()?;
                field_attrs.push(quote!(#[schemars(description = #description)]));
            }
            "title" => {
                let title = text()?;
                field_attrs.push(quote!(#[schemars(title = #title)]));
            }
            "deprecated" => match &value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Bool(deprecated),
                    ..
                }) => {
                    if deprecated.value {
                        field_attrs.push(quote!(#[schemars(extend("deprecated" = true))]));
                    }
                }
                other => return Err(error(other, "expected `true` or `false`")),
            },
            // Written into the schema as FastAPI's `examples=[...]` is: a JSON array.
            "examples" => match &value {
                Expr::Array(_) => {
                    field_attrs.push(quote!(#[schemars(extend("examples" = #value))]));
                }
                other => {
                    return Err(error(
                        other,
                        "expected an array, such as `[\"foo\", \"bar\"]`",
                    ));
                }
            },
            "ge" => min = Some(value),
            "le" => max = Some(value),
            "gt" => field_attrs.push(quote!(#[schemars(extend("exclusiveMinimum" = #value))])),
            "lt" => field_attrs.push(quote!(#[schemars(extend("exclusiveMaximum" = #value))])),
            "multiple_of" => field_attrs.push(quote!(#[schemars(extend("multipleOf" = #value))])),
            "min_length" => min_length = Some(value),
            "max_length" => max_length = Some(value),
            "pattern" => {
                let pattern = text()?;
                field_attrs.push(quote!(#[schemars(pattern(#pattern))]));
            }
            other => {
                return Err(error(
                    &pair.path,
                    &format!(
                        "unknown option `{other}` of #[{}]; expected required, default, alias, title, description, examples, deprecated, ge, gt, le, lt, multiple_of, min_length, max_length, pattern{}{}",
                        source.attr(),
                        if matches!(source, Source::Query | Source::Header | Source::Cookie) {
                            ", include_in_schema"
                        } else {
                            ""
                        },
                        match source {
                            Source::Header => ", convert_underscores",
                            Source::Body => ", embed",
                            _ => "",
                        }
                    ),
                ));
            }
        }
    }
    match (min, max) {
        (Some(min), Some(max)) => {
            field_attrs.push(quote!(#[schemars(range(min = #min, max = #max))]))
        }
        (Some(min), None) => field_attrs.push(quote!(#[schemars(range(min = #min))])),
        (None, Some(max)) => field_attrs.push(quote!(#[schemars(range(max = #max))])),
        (None, None) => {}
    }
    match (min_length, max_length) {
        (Some(min), Some(max)) => {
            field_attrs.push(quote!(#[schemars(length(min = #min, max = #max))]))
        }
        (Some(min), None) => field_attrs.push(quote!(#[schemars(length(min = #min))])),
        (None, Some(max)) => field_attrs.push(quote!(#[schemars(length(max = #max))])),
        (None, None) => {}
    }
    Ok((default, field_attrs, embed))
}

pub(crate) fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> syn::Result<TokenStream> {
    let attribute = match kind {
        Kind::Handler => "#[portico::handler]",
        Kind::Provider => "#[portico::provider]",
    };
    if !args.is_empty() {
        return Err(error(args, &format!("{attribute} takes no arguments")));
    }
    let mut func: ItemFn = syn::parse2(item)?;
    if !func.sig.generics.params.is_empty() {
        return Err(error(
            &func.sig.generics,
            &format!("a {attribute} function cannot be generic"),
        ));
    }
    let fn_name = func.sig.ident.clone();
    let vis = func.vis.clone();
    let mut params: Vec<Param> = Vec::new();
    let mut others: Vec<FnArg> = Vec::new();
    for arg in std::mem::take(&mut func.sig.inputs) {
        let FnArg::Typed(mut typed) = arg else {
            return Err(error(
                arg,
                &format!("a {attribute} function cannot take `self`"),
            ));
        };
        let mut source = None;
        let mut found: Option<Attribute> = None;
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut typed.attrs) {
            match Source::ALL
                .into_iter()
                .find(|s| attr.path().is_ident(s.attr()))
            {
                Some(s) if source.is_none() => {
                    source = Some(s);
                    found = Some(attr);
                }
                Some(_) => return Err(error(attr, "a parameter comes from one place only")),
                None => kept.push(attr),
            }
        }
        typed.attrs = kept;
        let (Some(source), Some(attr)) = (source, found) else {
            others.push(FnArg::Typed(typed));
            continue;
        };
        let Pat::Ident(ident) = &*typed.pat else {
            return Err(error(
                &typed.pat,
                "a #[query], #[path], #[header], #[cookie], #[body] or #[form] parameter needs a plain name: it is the parameter's name",
            ));
        };
        let name = ident.ident.clone();
        if kind == Kind::Provider && source.reads_body() {
            return Err(error(
                &attr,
                "a provider reads the request's head only: #[body] and #[form] are a handler's",
            ));
        }
        let (default, field_attrs, embed) = options(&attr, source)?;
        params.push(Param {
            source,
            pat: (*typed.pat).clone(),
            name,
            ty: (*typed.ty).clone(),
            default,
            field_attrs,
            embed,
        });
    }

    let mut generated = TokenStream::new();
    let mut extracted: Vec<TokenStream> = Vec::new();
    // The body comes last: the one parameter that may read it must be the handler's last.
    let mut body: Option<TokenStream> = None;
    for source in Source::ALL {
        let mine: Vec<&Param> = params.iter().filter(|p| p.source == source).collect();
        if mine.is_empty() {
            continue;
        }
        // One body parameter, not embedded: the body is its value, as FastAPI reads it.
        if let [lone] = mine.as_slice()
            && source == Source::Body
            && !lone.embed
        {
            if lone.default.is_some() || !lone.field_attrs.is_empty() {
                return Err(error(
                    &lone.name,
                    "a lone #[body] parameter is the body itself: constrain its type, or write #[body(embed, ...)] to read it as a key of the body",
                ));
            }
            let (pat, ty) = (&lone.pat, &lone.ty);
            body = Some(quote!(::portico::Json(#pat): ::portico::Json<#ty>));
            continue;
        }
        let struct_name = format_ident!("__Portico_{}_{}", fn_name, source.attr());
        let mut fields = Vec::new();
        let mut bindings = Vec::new();
        for param in &mine {
            let Param {
                pat,
                name,
                ty,
                default,
                field_attrs,
                ..
            } = param;
            let default_attr = match default {
                Some(expr) => {
                    let default_fn =
                        format_ident!("__portico_{}_{}_{}_default", fn_name, source.attr(), name);
                    let path = default_fn.to_string();
                    generated.extend(quote! {
                        #[doc(hidden)]
                        #[allow(non_snake_case)]
                        fn #default_fn() -> #ty {
                            #expr
                        }
                    });
                    quote!(#[serde(default = #path)])
                }
                None => TokenStream::new(),
            };
            fields.push(quote! {
                #default_attr
                #(#field_attrs)*
                #vis #name: #ty
            });
            // `name` alone when the pattern is the bare name, `name: mut name` otherwise.
            let bare = matches!(pat, Pat::Ident(ident) if ident.mutability.is_none() && ident.by_ref.is_none() && ident.subpat.is_none());
            bindings.push(if bare {
                quote!(#name)
            } else {
                quote!(#name: #pat)
            });
        }
        // Single parameters, not a model: a missing one has no input (FastAPI validates each
        // on its own), and form fields are documented as `Body_<operationId>`.
        let marker = if source != Source::Body {
            quote!(#[schemars(extend("x-portico-fields" = true))])
        } else {
            TokenStream::new()
        };
        generated.extend(quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #[derive(::portico::__private::serde::Deserialize, ::portico::__private::schemars::JsonSchema)]
            #[serde(crate = "::portico::__private::serde")]
            #[schemars(crate = "::portico::__private::schemars")]
            #marker
            #vis struct #struct_name {
                #(#fields,)*
            }
        });
        let extractor = source.extractor();
        let input = quote!(#extractor(#struct_name { #(#bindings),* }): #extractor<#struct_name>);
        if source.reads_body() {
            if body.is_some() {
                return Err(error(
                    &mine[0].name,
                    "a request has one body: #[body] and #[form] parameters cannot be mixed",
                ));
            }
            body = Some(input);
        } else {
            extracted.push(input);
        }
    }
    let mut inputs: Punctuated<FnArg, Token![,]> = Punctuated::new();
    for tokens in extracted {
        inputs.push(syn::parse2(tokens)?);
    }
    inputs.extend(others);
    if let Some(tokens) = body {
        inputs.push(syn::parse2(tokens)?);
    }
    func.sig.inputs = inputs;
    let doc = doc_comment(&func.attrs);
    let name = fn_name.to_string();
    // The name and doc comment, found again by the function's type when a route uses it.
    if kind == Kind::Handler {
        generated.extend(quote! {
            ::portico::__private::inventory::submit! {
                ::portico::__private::HandlerDoc::new(
                    || ::portico::__private::type_id_of(&#fn_name),
                    #name,
                    #doc,
                )
            }
        });
    }
    let checks = crate::check::checks(&func.sig, kind);
    Ok(quote! {
        #generated
        #func
        #checks
    })
}

/// The text of the `///` comments (`#[doc = "..."]` attributes), one line each, with the one
/// space after `///` taken off.
fn doc_comment(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(pair) = &attr.meta
            && let Expr::Lit(lit) = &pair.value
            && let Lit::Str(text) = &lit.lit
        {
            let text = text.value();
            lines.push(text.strip_prefix(' ').unwrap_or(&text).to_owned());
        }
    }
    lines.join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn expand_str(item: &str) -> Result<String, String> {
        expand(
            TokenStream::new(),
            item.parse().expect("tokens"),
            Kind::Handler,
        )
        .map(|tokens| tokens.to_string())
        .map_err(|err| err.to_string())
    }

    #[test]
    fn gathers_single_values_into_one_extractor_per_source() {
        let out = expand_str(
            "async fn read(#[path] id: u64, #[query] q: Option<String>, #[query(default = 10, ge = 1, le = 100)] limit: u32, body: Json<Item>) {}",
        )
        .unwrap();
        assert!(out.contains("struct __Portico_read_path"), "{out}");
        assert!(out.contains("struct __Portico_read_query"), "{out}");
        assert!(out.contains("range (min = 1 , max = 100)"), "{out}");
        assert!(
            out.contains("fn __portico_read_query_limit_default () -> u32 { 10 }"),
            "{out}"
        );
        assert!(
            out.contains(
                "async fn read (:: portico :: Path (__Portico_read_path { id }) : :: portico :: Path < __Portico_read_path > , :: portico :: Query (__Portico_read_query { q , limit }) : :: portico :: Query < __Portico_read_query > , body : Json < Item >)"
            ),
            "{out}"
        );
    }

    #[test]
    fn refuses_what_it_cannot_name() {
        let pattern = expand_str("async fn f(#[query] (a, b): (u8, u8)) {}").unwrap_err();
        assert!(pattern.contains("needs a plain name"), "{pattern}");
        let unknown = expand_str("async fn f(#[query(maximum = 3)] a: u8) {}").unwrap_err();
        assert!(unknown.contains("unknown option `maximum`"), "{unknown}");
        let twice = expand_str("async fn f(#[query] #[header] a: u8) {}").unwrap_err();
        assert!(twice.contains("one place only"), "{twice}");
    }

    #[test]
    fn records_the_name_and_doc_comment_under_the_function_type() {
        let out = expand_str(
            "/// Reads one item.\n///\n/// From the store.\nasync fn read_item(id: Json<u8>) {}",
        )
        .unwrap();
        assert!(out.contains("inventory :: submit !"), "{out}");
        assert!(
            out.contains(r#"HandlerDoc :: new (|| :: portico :: __private :: type_id_of (& read_item) , "read_item" , "Reads one item.\n\nFrom the store." ,)"#),
            "{out}"
        );
        assert!(
            out.contains("async fn read_item (id : Json < u8 >)"),
            "{out}"
        );
    }
}
