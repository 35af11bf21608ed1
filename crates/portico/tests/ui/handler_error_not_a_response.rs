// A `Result`'s error must be a response too.
struct DbError;

#[portico::handler]
fn read() -> Result<&'static str, DbError> {
    Err(DbError)
}

fn main() {
    let _ = portico::App::new().get("/", read);
}
