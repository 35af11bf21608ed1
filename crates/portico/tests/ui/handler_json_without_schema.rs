// A JSON response is documented: its type needs a schema.
use portico::Json;

#[derive(serde::Serialize)]
struct Item {
    name: String,
}

#[portico::handler]
async fn read() -> Json<Item> {
    Json(Item { name: "pot".into() })
}

fn main() {
    let _ = portico::App::new().get("/", read);
}
