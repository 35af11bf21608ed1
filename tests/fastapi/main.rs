//! FastAPI's tutorial tests, ported: each module is one chapter of FastAPI's Tutorial or
//! Advanced User Guide, with its apps written as a Portico user would write them and the
//! assertions of FastAPI's `tests/test_tutorial/` ported one for one. See `README.md` here.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

mod body;
mod body_fields;
mod body_multiple_params;
mod body_nested_models;
mod cookie_params;
mod extra_data_types;
mod first_steps;
mod handling_errors;
mod header_params;
mod path_params;
mod path_params_numeric_validations;
mod query_params;
mod query_params_str_validations;
mod response_model;
mod response_status_code;
mod strict_content_type;
mod extra_models;
mod query_param_models;
mod header_param_models;
mod cookie_param_models;
mod request_forms;
mod request_form_models;
mod response_cookies;
mod response_headers;
mod response_change_status_code;
mod additional_status_codes;
mod dependencies;
mod testing_dependencies;
mod body_updates;
