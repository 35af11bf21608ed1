//! `#[portico::test]`: one test becomes `name::tokio`, `name::smol`, ...: an `async fn` run on
//! each runtime, or a plain `fn` handed each runtime's kind.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, ReturnType, Token};

/// What the attribute's arguments ask for.
struct Config {
    /// Milliseconds before the test fails as hung.
    timeout_ms: u64,
    /// Executor threads of each test's runtime.
    workers: usize,
}

/// 60 seconds: long enough for the slowest honest test on a loaded two-core machine, short
/// enough that a hung test fails well inside CI's budget. Chosen by judgement, not measured.
const DEFAULT_TIMEOUT_MS: u64 = 60_000;

/// Two workers, so that tests exercise real parallelism even on small machines.
const DEFAULT_WORKERS: usize = 2;

fn parse_config(args: TokenStream) -> syn::Result<Config> {
    let mut config = Config {
        timeout_ms: DEFAULT_TIMEOUT_MS,
        workers: DEFAULT_WORKERS,
    };
    let pairs = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
    for pair in pairs {
        let Some(key) = pair.path.get_ident().map(ToString::to_string) else {
            return Err(syn::Error::new_spanned(
                &pair.path,
                "expected `timeout` or `workers`",
            ));
        };
        match key.as_str() {
            "timeout" => {
                let seconds = number(&pair.value, "seconds, such as `timeout = 5` or `0.5`")?;
                if !(seconds > 0.0 && seconds.is_finite()) {
                    return Err(syn::Error::new_spanned(
                        &pair.value,
                        "the timeout must be positive",
                    ));
                }
                // Rounded to whole milliseconds; a sub-millisecond timeout is meaningless here.
                config.timeout_ms = (seconds * 1000.0).round().max(1.0) as u64;
            }
            "workers" => {
                let workers = number(&pair.value, "a thread count, such as `workers = 4`")?;
                if workers < 1.0 || workers.fract() != 0.0 {
                    return Err(syn::Error::new_spanned(
                        &pair.value,
                        "workers must be a whole number of at least 1",
                    ));
                }
                config.workers = workers as usize;
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &pair.path,
                    format!("unknown argument `{key}`; expected `timeout` or `workers`"),
                ));
            }
        }
    }
    Ok(config)
}

fn number(value: &Expr, what: &str) -> syn::Result<f64> {
    let parsed = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse::<u64>().map(|n| n as f64),
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) => float.base10_parse::<f64>(),
        _ => return Err(syn::Error::new_spanned(value, format!("expected {what}"))),
    };
    parsed.map_err(|_| syn::Error::new_spanned(value, format!("expected {what}")))
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let config = parse_config(args)?;
    let mut func: ItemFn = syn::parse2(item)?;
    let sig = &func.sig;
    let sync = sig.asyncness.is_none();
    if sync && sig.inputs.len() != 1 {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            "a synchronous #[portico::test] takes the runtime it runs for, `rt: portico::RuntimeKind`; an `async fn` takes no arguments",
        ));
    }
    if !sync && !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "an async #[portico::test] function takes no arguments",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a #[portico::test] function cannot be generic",
        ));
    }

    let name = sig.ident.clone();
    let ret = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    // Attributes such as `#[should_panic]` and `#[ignore]` belong on each generated test; doc
    // comments stay on the function.
    let (docs, test_attrs): (Vec<_>, Vec<_>) = std::mem::take(&mut func.attrs)
        .into_iter()
        .partition(|attr| attr.path().is_ident("doc"));
    func.attrs = docs;
    func.vis = syn::Visibility::Inherited;
    let timeout_ms = config.timeout_ms;
    let workers = config.workers;

    let expand = if sync {
        quote!(::portico::__runtime_sync_tests!)
    } else {
        quote!(::portico::__runtime_tests!)
    };
    Ok(quote! {
        mod #name {
            #[allow(unused_imports)]
            use super::*;

            #func

            #expand(
                #name,
                #ret,
                ::portico::__private::TestConfig::new(#timeout_ms, #workers),
                [#(#test_attrs)*]
            );
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(args: &str, item: &str) -> Result<String, String> {
        expand(args.parse().expect("tokens"), item.parse().expect("tokens"))
            .map(|tokens| tokens.to_string())
            .map_err(|err| err.to_string())
    }

    #[test]
    fn expands_to_a_module_named_after_the_test() {
        let out = expand_str("", "async fn spawns() { work().await }").expect("expands");
        assert!(out.starts_with("mod spawns {"), "{out}");
        assert!(
            out.contains("TestConfig :: new (60000u64 , 2usize)"),
            "{out}"
        );
    }

    #[test]
    fn reads_timeout_and_workers() {
        let out = expand_str("timeout = 0.5, workers = 4", "async fn t() {}").expect("expands");
        assert!(out.contains("TestConfig :: new (500u64 , 4usize)"), "{out}");
    }

    #[test]
    fn moves_test_attributes_to_the_generated_tests() {
        let out = expand_str("", "/// Docs.\n#[should_panic] async fn t() {}").expect("expands");
        assert!(out.contains("[# [should_panic]]"), "{out}");
        assert!(out.contains("# [doc = \" Docs.\"] async fn t"), "{out}");
    }

    #[test]
    fn expands_a_synchronous_test_handed_its_runtime() {
        let out = expand_str("", "fn t(rt: portico::RuntimeKind) {}").expect("expands");
        assert!(
            out.contains(":: portico :: __runtime_sync_tests !"),
            "{out}"
        );
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        let sync = expand_str("", "fn t() {}").expect_err("sync fn without the runtime");
        assert!(sync.contains("takes the runtime it runs for"), "{sync}");
        let args = expand_str("", "async fn t(x: u8) {}").expect_err("arguments");
        assert!(args.contains("takes no arguments"), "{args}");
        let unknown = expand_str("retries = 3", "async fn t() {}").expect_err("unknown arg");
        assert!(unknown.contains("unknown argument `retries`"), "{unknown}");
        let zero = expand_str("workers = 0", "async fn t() {}").expect_err("zero workers");
        assert!(zero.contains("at least 1"), "{zero}");
    }
}
