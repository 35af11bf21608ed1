//! FastAPI's tutorial tests, ported: each module is one chapter of FastAPI's Tutorial or
//! Advanced User Guide, with its apps written as a Portico user would write them and the
//! assertions of FastAPI's `tests/test_tutorial/` ported one for one. See `README.md` here.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

mod additional_responses;
mod additional_status_codes;
mod app_testing;
mod background_tasks;
mod behind_a_proxy;
mod bigger_applications;
mod body;
mod body_fields;
mod body_multiple_params;
mod body_nested_models;
mod body_updates;
mod cookie_param_models;
mod cookie_params;
mod cors;
mod custom_response;
mod dependencies;
mod encoder;
mod events;
mod extra_data_types;
mod extra_models;
mod first_steps;
mod handling_errors;
mod header_param_models;
mod header_params;
mod metadata;
mod middleware;
mod openapi_callbacks;
mod openapi_webhooks;
mod path_operation_configurations;
mod path_params;
mod path_params_numeric_validations;
mod query_param_models;
mod query_params;
mod query_params_str_validations;
mod request_files;
mod request_form_models;
mod request_forms;
mod request_forms_and_files;
mod response_change_status_code;
mod response_cookies;
mod response_directly;
mod response_headers;
mod response_model;
mod response_status_code;
mod schema_extra_example;
mod security;
mod settings;
mod sql_databases;
mod static_files;
mod strict_content_type;
mod sub_applications;
mod templates;
mod testing_dependencies;
mod using_request_directly;
mod websockets;
