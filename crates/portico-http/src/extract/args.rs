//! A function's head-only parameters, extracted together: the one way path operations and
//! dependency providers read theirs. Every parameter is tried, in order, even after one
//! failed validation, so that every invalid input of the request is collected; a parameter
//! that answers with a response of its own (401, 413...) ends the request at once.

use std::future::Future;

use http::request::Parts;
use portico_openapi::OperationDoc;

use super::{FromRequestParts, Rejection, RequestContext};
use crate::context::RouteSpec;
use crate::error::ErrorItem;
use crate::response::Reply;

/// A tuple of head-only parameters.
pub(crate) trait Args: Sized + Send + 'static {
    /// Extracts every parameter. `Ok(None)` when some were invalid: their errors are in
    /// `errors`. `Err` when one answered with a response of its own, or an error for the
    /// exception handlers.
    fn extract<'a>(
        parts: &'a mut Parts,
        ctx: &'a RequestContext,
        errors: &'a mut Vec<ErrorItem>,
    ) -> impl Future<Output = Result<Option<Self>, Reply>> + Send + 'a;

    /// Describes every parameter, in order.
    fn describe(doc: &mut OperationDoc);

    /// Records what every parameter needs, in order.
    fn spec(spec: &mut RouteSpec);
}

macro_rules! args {
    ($($t:ident),*) => {
        impl<$($t: FromRequestParts + 'static),*> Args for ($($t,)*) {
            #[allow(non_snake_case, unused_variables, reason = "the type names double as bindings")]
            fn extract<'a>(
                parts: &'a mut Parts,
                ctx: &'a RequestContext,
                errors: &'a mut Vec<ErrorItem>,
            ) -> impl Future<Output = Result<Option<Self>, Reply>> + Send + 'a {
                async move {
                    $(
                        let $t = match $t::from_request_parts(parts, ctx).await {
                            Ok(value) => Some(value),
                            Err(
                                Rejection::Invalid(found)
                                | Rejection::InvalidBody { errors: found, .. },
                            ) => {
                                errors.extend(found);
                                None
                            }
                            Err(other) => return Err(other.into_reply()),
                        };
                    )*
                    #[allow(unreachable_patterns, reason = "no parameters cannot fail")]
                    match ($($t,)*) {
                        ($(Some($t),)*) => Ok(Some(($($t,)*))),
                        _ => Ok(None),
                    }
                }
            }

            #[allow(unused_variables, reason = "no parameters describe nothing")]
            fn describe(doc: &mut OperationDoc) {
                $($t::describe(doc);)*
            }

            #[allow(unused_variables, reason = "no parameters need nothing")]
            fn spec(spec: &mut RouteSpec) {
                $($t::spec(spec);)*
            }
        }
    };
}

args!();
args!(T1);
args!(T1, T2);
args!(T1, T2, T3);
args!(T1, T2, T3, T4);
args!(T1, T2, T3, T4, T5);
args!(T1, T2, T3, T4, T5, T6);
args!(T1, T2, T3, T4, T5, T6, T7);
args!(T1, T2, T3, T4, T5, T6, T7, T8);
args!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
args!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
args!(
    T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15
);
