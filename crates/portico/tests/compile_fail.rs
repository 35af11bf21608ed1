//! Compile errors a user meets when a handler or a provider does not fit: each names the
//! parameter or return type at fault and what it lacks (`tests/ui/*.rs`, with the compiler's
//! message beside each in a `.stderr` file; `TRYBUILD=overwrite` writes them anew when a
//! message changes on purpose).

#[test]
fn wrong_handlers_and_providers_are_named_by_the_compiler() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
