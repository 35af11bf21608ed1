//! FastAPI's tutorial tests, ported: each module is one chapter of FastAPI's Tutorial or
//! Advanced User Guide, with its apps written as a Portico user would write them and the
//! assertions of FastAPI's `tests/test_tutorial/` ported one for one. See `README.md` here.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

mod first_steps;
mod path_params;
mod query_params;
